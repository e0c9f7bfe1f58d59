"""Git values a setting names: a ref (branch) by ``git check-ref-format``'s rules, and a clone URL
without credentials.  Standard library only."""
from __future__ import annotations

import re
from typing import Any

from .core import Invalid, show, text
from .names import absolute_path
from .urls import url_host, url_parts

_REF_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]")
_PATH = re.compile(r"/[A-Za-z0-9._~/+-]*")
_SCP = re.compile(r"([A-Za-z0-9._-]+)@([^:/]+):([A-Za-z0-9._~+-][A-Za-z0-9._~/+-]*)")


def git_ref(value: Any, what: str = "branch") -> str:
    """A branch name ``git check-ref-format --branch`` accepts, in ASCII: no ``..``, ``@{``, space,
    control character or any of ``~ ^ : ? * [ \\``; no component starting with ``.`` or ending with
    ``.lock``; not starting with ``-`` or ``/``, not ending with ``/`` or ``.``, no ``//``; not ``@``."""
    v = text(value, what)
    hint = "a branch name such as main or release/2026: letters, digits and . _ / - (git check-ref-format)"
    if not v:
        raise Invalid(f"{what} is empty", hint)
    if len(v) > 255:
        raise Invalid(f"{what} {show(v)} is {len(v)} characters long", "at most 255")
    if not v.isascii():
        raise Invalid(f"{what} {show(v)} has characters beyond ASCII", hint)
    bad = _REF_FORBIDDEN.search(v)
    if bad:
        raise Invalid(f"{what} {show(v)} contains {show(bad.group())}", hint)
    if v.startswith("-"):
        raise Invalid(f"{what} {show(v)} starts with '-'", "git would read it as an option: " + hint)
    for rule, why in (("..", "'..'"), ("@{", "'@{'"), ("//", "'//'")):
        if rule in v:
            raise Invalid(f"{what} {show(v)} contains {why}", hint)
    if v == "@" or v.startswith("/") or v.endswith(("/", ".")):
        raise Invalid(f"{what} {show(v)} is not a ref name git accepts", hint)
    for part in v.split("/"):
        if part.startswith(".") or part.endswith(".lock"):
            raise Invalid(f"{what} {show(v)} has a component starting with '.' or ending with '.lock'", hint)
    return v


def git_repository(value: Any, what: str = "repository") -> str:
    """Where a workspace is cloned from: ``https://host[:port]/path``, ``ssh://[user@]host[:port]/path``,
    ``user@host:path`` or an absolute path on the host.  Never a password or token in it (the URL
    would be stored in the stack's state and in every clone's ``.git/config``): the host's own
    credentials (a deploy key, a credential helper) reach the clone instead; never echoed."""
    v = text(value, what)
    hint = "https://host/path, ssh://user@host/path, user@host:path or /srv/git/repo.git"
    secret = Invalid(f"{what} carries credentials (user:password or a token before '@'): not shown",
                     "give the host a deploy key or a git credential helper instead (docs/workstation.md)")
    if v.startswith("/"):
        return absolute_path(v, what)
    if "://" in v:
        url = url_parts(v, what, ("https", "ssh"))
        if url.userinfo is not None and (url.scheme == "https" or ":" in url.userinfo):
            raise secret  # https://token@host, https://user:pw@host, ssh://user:pw@host
        if url.userinfo is not None and not re.fullmatch(r"[A-Za-z0-9._-]+", url.userinfo):
            raise Invalid(f"{what} has an invalid user name", hint)
        if not _PATH.fullmatch(url.path) or url.path == "/":
            raise Invalid(f"{what} {show(v)} has no repository path, or one with characters git URLs do not need",
                          hint)
        return v
    m = _SCP.fullmatch(v)
    if m:
        url_host(m.group(2), what)
        return v
    if "@" in v and ":" in v.split("@", 1)[0]:
        raise secret
    raise Invalid(f"{what} {show(v) if '@' not in v else ''} is not a clone URL".replace("  ", " "), hint)
