"""Names of things on a host or a network: POSIX user and group names (and the names no person may
take), absolute paths, ZFS dataset names, SSH addresses, host names (the package docstring states
the contract of every check)."""
from __future__ import annotations

import ipaddress
import posixpath
import re
from typing import Any

from .core import Invalid, bad_character, show, text

POSIX_NAME = re.compile(r"[a-z_][a-z0-9_-]{0,31}")
"""User and group names Debian's ``useradd`` accepts by default (NAME_REGEX), at most 32 bytes."""
PATH_COMPONENT = re.compile(r"[A-Za-z0-9._-]+")
"""One component of a path Keystone writes into commands and config files (no quoting hazards)."""
DATASET_COMPONENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]*")
"""One component of a ZFS dataset name (ZFS also allows spaces: Keystone does not)."""
HOST_NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
"""Keystone's own name of a host (one DNS label, lower case): resource ids start with it."""
DNS_NAME = re.compile(r"(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)*\.?")  # noqa: E501
"""A DNS name, an ``/etc/hosts`` name or an ``~/.ssh/config`` alias (underscores allowed: those are not
DNS), with an optional trailing dot."""
MAX_PATH = 4095
MAX_DATASET = 255
"""ZFS_MAX_DATASET_NAME_LEN - 1."""
RESERVED_POOL_NAMES = frozenset({"mirror", "raidz", "raidz1", "raidz2", "raidz3", "draid", "draid1", "draid2",
                                 "draid3", "spare", "log", "cache", "special", "dedup"})
SYSTEM_DIRECTORIES = frozenset({"/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc",
                                "/root", "/run", "/sbin", "/sys", "/tmp", "/usr", "/var", "/usr/bin", "/usr/lib",
                                "/usr/sbin", "/usr/local", "/var/lib", "/var/log", "/var/tmp"})
"""Directories that must never hold people's homes."""
RESERVED_NAMES = frozenset(
    """root daemon bin sys sync games man lp mail news uucp proxy www-data backup list irc gnats
    nobody nogroup _apt messagebus sshd bird bird2 polkitd avahi dnsmasq tss uuidd tcpdump
    adm sudo wheel staff users disk kmem dialout cdrom floppy audio video plugdev netdev tty
    shadow utmp operator src voice tape input kvm render sgx docker lxd libvirt crontab ssh
    _ssh admin administrator zfs keystone""".split()
)
"""Names that belong to the system (Debian base users and groups, daemons Keystone relies on), and
every ``systemd-*`` name: never a person's.  A person named like an existing group would also break
``useradd``'s user-private group."""
RESERVED_PREFIX = "systemd-"


def posix_name(value: Any, what: str = "user name") -> str:
    """A POSIX user or group name as Debian accepts it: ``[a-z_][a-z0-9_-]{0,31}``."""
    v = text(value, what)
    chars = "lower-case ASCII letters, digits, '_' and '-', starting with a letter or '_', at most 32"
    if not v:
        raise Invalid(f"{what} is empty", chars)
    if v.startswith("-"):
        raise Invalid(f"{what} {show(v)} starts with '-'", "a name starting with '-' would be read as an option")
    if len(v) > 32:
        raise Invalid(f"{what} {show(v)} is {len(v)} characters long", "at most 32 characters")
    if not POSIX_NAME.fullmatch(v):
        if POSIX_NAME.fullmatch(v.lower()):
            raise Invalid(f"{what} {show(v)} has upper-case letters", f"names are lower case: {v.lower()!r}")
        bad = bad_character(v[1:], re.compile(r"[a-z0-9_-]")) if v[:1] and re.fullmatch(r"[a-z_]", v[0]) else v[0]
        raise Invalid(f"invalid {what} {show(v)}" + (f": {show(bad)} is not allowed" if bad else ""), chars)
    return v


def person_name(value: Any, what: str = "username") -> str:
    """A person's login name: a ``posix_name`` that is not the system's (``RESERVED_NAMES``, ``systemd-*``)."""
    v = posix_name(value, what)
    if v in RESERVED_NAMES or v.startswith(RESERVED_PREFIX):
        raise Invalid(f"{what} {v!r} is reserved for the system", "choose a personal name, e.g. 'jdoe'")
    return v


def absolute_path(value: Any, what: str = "path", *, home_relative: bool = False, allow_root: bool = False,
                  any_name: bool = False) -> str:
    """An absolute, normalised path of plain components: no ``..``, ``.``, ``//``, trailing ``/``,
    whitespace, quotes or shell metacharacters.  ``home_relative``: ``~/...`` is accepted too (for
    files ssh or the program expands, such as an identity file).  ``any_name``: a component may be
    any name the file system takes but a newline (host output is read line by line), for a file
    Keystone only passes as one argument (``host:ManagedFile``)."""
    v = text(value, what)
    start = "/" + (" or ~/" if home_relative else "")
    if not v:
        raise Invalid(f"{what} is empty", f"an absolute path starting with {start}")
    if len(v) > MAX_PATH:
        raise Invalid(f"{what} is {len(v)} characters long", f"at most {MAX_PATH}")
    tilde = home_relative and v.startswith("~/")
    body = v[1:] if tilde else v
    if not body.startswith("/"):
        raise Invalid(f"{what} {show(v)} is not an absolute path", f"start it with {start}")
    parts = body.split("/")[1:]
    if ".." in parts:
        raise Invalid(f"{what} {show(v)} contains '..'", "write the path without '..' components")
    if body != "/" and ("." in parts or "" in parts):
        normal = "/" + posixpath.normpath(body).lstrip("/")
        normal = ("~" + normal) if tilde else normal
        raise Invalid(f"{what} {show(v)} is not normalised", f"write {normal!r} (no '.', '//' or trailing '/')")
    if body == "/" and not allow_root:
        raise Invalid(f"{what} is the root directory /", "name a directory below /")
    if any_name:
        if "\n" in v or "\0" in v:
            raise Invalid(f"{what} {show(v)} contains {show(chr(10) if chr(10) in v else chr(0))}",
                          "a file name holds neither a newline nor NUL")
        return v
    for part in parts:
        if not PATH_COMPONENT.fullmatch(part or "."):
            bad = bad_character(part, re.compile(r"[A-Za-z0-9._-]"))
            raise Invalid(f"{what} {show(v)} contains {show(bad)}",
                          "letters, digits and . _ - between slashes: no spaces, quotes or shell characters")
    return v


def directory_for_homes(value: Any, what: str = "home mountpoint") -> str:
    """Where the home parent is mounted: an absolute path (``absolute_path``), not a system directory."""
    v = absolute_path(value, what)
    if v in SYSTEM_DIRECTORIES:
        raise Invalid(f"{what} {v!r} is a system directory", "homes live in a directory of their own, e.g. /home")
    return v


def dataset_name(value: Any, what: str = "dataset", *, room: int = 0) -> str:
    """A ZFS filesystem below a pool (``pool/a/b``): plain components, no snapshot or bookmark,
    ``room`` characters left for names appended to it (``/<user>``)."""
    v = text(value, what)
    if not v:
        raise Invalid(f"{what} is empty", "a dataset below a pool, e.g. rpool/home")
    if len(v) + room > MAX_DATASET:
        raise Invalid(f"{what} {show(v)} is {len(v)} characters long",
                      f"at most {MAX_DATASET - room}" + (" (room is kept for the user name appended to it)" if room else ""))
    for ch, why in (("@", "'@' names a snapshot"), ("#", "'#' names a bookmark"), ("%", "'%' is reserved by ZFS")):
        if ch in v:
            raise Invalid(f"{what} {show(v)} contains {ch!r}", f"{why}: name a filesystem")
    parts = v.split("/")
    if ".." in parts or "." in parts:
        raise Invalid(f"{what} {show(v)} contains '..' or '.'", "a dataset name has no relative components")
    if "" in parts:
        raise Invalid(f"{what} {show(v)} has an empty component",
                      "no leading, trailing or doubled '/': e.g. rpool/crypt/home")
    if len(parts) < 2:
        raise Invalid(f"{what} {show(v)} is a pool, not a dataset below one", f"e.g. {v}/home")
    for part in parts:
        if not DATASET_COMPONENT.fullmatch(part):
            bad = part[0] if not re.fullmatch(r"[A-Za-z0-9]", part[0]) else bad_character(part, re.compile(r"[A-Za-z0-9_.:-]"))
            raise Invalid(f"{what} {show(v)} contains {show(bad)}",
                          "each component starts with a letter or digit, then letters, digits and _ . : -")
    pool = parts[0]
    if not pool[0].isalpha():
        raise Invalid(f"pool name {pool!r} of {what} must start with a letter", "e.g. rpool")
    if pool in RESERVED_POOL_NAMES:
        raise Invalid(f"pool name {pool!r} of {what} is reserved by ZFS", "use the pool's real name, e.g. rpool")
    return v


def host_name(value: Any, what: str = "host name") -> str:
    """Keystone's name of a host: one lower-case DNS label (it starts resource ids)."""
    v = text(value, what)
    if not HOST_NAME.fullmatch(v):
        raise Invalid(f"invalid {what} {show(v)}", "lower-case letters, digits and '-', at most 63, not starting "
                      "or ending with '-'")
    return v


def network_host(value: Any, what: str = "host", *, hint: str = "a host name or an IP address",
                 brackets: bool = False) -> str:
    """A host on the network as a resolver takes it: a DNS name (``DNS_NAME``) or an IP address
    without a zone index (``[...]`` around one with ``brackets``), returned as given.  Text made of
    digits and dots is an IPv4 address or nothing (``1.2.3`` is refused: resolvers read it as
    1.2.0.3)."""
    v = text(value, what)
    if not v:
        raise Invalid(f"{what} is empty", hint)
    if re.fullmatch(r"[0-9.]+", v) or ":" in v or (brackets and v.startswith("[")):
        try:
            ip = ipaddress.ip_address(v[1:-1] if brackets and v.startswith("[") and v.endswith("]") else v)
        except ValueError:
            raise Invalid(f"{what} {show(v)} is not a valid IP address", hint) from None
        if ip.version == 6 and ip.scope_id:
            raise Invalid(f"{what} {show(v)} has a zone index", "use a global address" + (
                " or an ~/.ssh/config alias" if brackets else ""))
        return v
    if not DNS_NAME.fullmatch(v):
        raise Invalid(f"invalid {what} {show(v)}", hint)
    return v


def ssh_address(value: Any, what: str = "SSH address", *, allow_local: bool = True) -> str:
    """A host name, an IP address or an ``~/.ssh/config`` alias (``local``: this machine):
    ``network_host`` with brackets, and never a leading ``-``."""
    v = text(value, what)
    hint = "a host name, an IP address or an ~/.ssh/config alias" + (', or "local"' if allow_local else "")
    if allow_local and v == "local":
        return v
    if v.startswith("-"):
        raise Invalid(f"{what} {show(v)} starts with '-'", "ssh would read it as an option: " + hint)
    return network_host(v, what, hint=hint, brackets=True)


GECOS_MAX = 64
"""The longest GECOS (comment) field Keystone writes: a person's full name."""


def gecos(value: Any, what: str = "GECOS field") -> str:
    """An account's GECOS (comment) field as ``useradd -c``/``usermod -c`` write it: at most
    ``GECOS_MAX`` characters, no ``:`` (the passwd separator), ``,`` or ``=`` (``chfn``'s field and
    option separators), no control character.  The roster's full name is one, of letters only."""
    v = text(value, what)
    if len(v) > GECOS_MAX:
        raise Invalid(f"{what} is {len(v)} characters long", f"at most {GECOS_MAX}")
    bad = next((c for c in v if c in ":,=" or ord(c) < 32 or ord(c) == 127), None)
    if bad is not None:
        raise Invalid(f"{what} {show(v)} contains {show(bad)}", "no ':', ',', '=' or control characters")
    return v


AUTHENTIK_GROUP = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9 _.@+-]{0,148}[A-Za-z0-9_.@+-])?")
APPLICATION_SLUG = re.compile(r"[-a-zA-Z0-9_]{1,50}")


def authentik_group(value: Any, what: str = "group name") -> str:
    """An Authentik group (or policy) name Keystone writes: no leading or trailing space, at most 150 characters."""
    v = text(value, what)
    if not AUTHENTIK_GROUP.fullmatch(v):
        raise Invalid(f"invalid {what} {show(v)}",
                      "letters, digits, spaces and _ . @ + -, at most 150 characters, no space at either end")
    return v


def application_slug(value: Any, what: str = "application slug") -> str:
    """An Authentik application's slug (a Django slug: what its URL is made of)."""
    v = text(value, what)
    if not APPLICATION_SLUG.fullmatch(v):
        raise Invalid(f"invalid {what} {show(v)}", "letters, digits, - and _, at most 50 characters (the application's slug)")
    return v
