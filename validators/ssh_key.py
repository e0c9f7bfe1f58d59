"""OpenSSH public keys as people paste them (one ``authorized_keys`` line, without options).

The key blob is read by ``cryptography`` (``load_ssh_public_key``, a maintained parser of the
RFC 4253/5656/8709 and OpenSSH security-key formats): it covers every type in ``KEY_TYPES``,
including ``sk-ssh-ed25519@openssh.com`` and ``sk-ecdsa-sha2-nistp256@openssh.com`` (checking the
``ssh:`` application), checks ed25519 lengths, RSA exponents and that an ECDSA point is on its
curve.  This module adds what is Keystone's policy: the allowed types, a minimum RSA size, one key
per line, no options, a canonical base64 blob and a printable comment.  Pure: no files, no network.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
import unicodedata
import warnings
from typing import Any

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_ssh_public_key

from .core import Invalid, show, text

KEY_TYPES = (
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
)
MIN_RSA_BITS = 2048
MAX_KEY_LINE = 16384
PATTERN = rf"^({'|'.join(map(re.escape, KEY_TYPES))}) "
"""JSON-schema pattern of a key line (for editors; ``public_key`` is the authority)."""

_LIBRARY_MESSAGES = (
    ("unparsed data", "trailing data after the key"),
    ("application string does not start with", "a security-key application must start with 'ssh:'"),
    ("Invalid data", "the key data is truncated"),
)
"""``cryptography``'s words for a bad blob -> Keystone's (others are shown as the library says them)."""


def _inner_type(blob: bytes) -> str | None:
    """The key type the blob names in its first field (RFC 4253 string), None if it has none."""
    if len(blob) < 4:
        return None
    (length,) = struct.unpack(">I", blob[:4])
    return blob[4: 4 + length].decode("ascii", "replace") if len(blob) >= 4 + length else None


def _check_blob(key_type: str, data: str, blob: bytes) -> None:
    """Raise ``ValueError`` naming what is wrong with the blob of a ``key_type`` key."""
    inner = _inner_type(blob)
    if inner is None:
        raise ValueError("the key data is truncated")
    if inner != key_type:
        raise ValueError(f"the key data is a {show(inner)} key, not {key_type}")
    try:
        with warnings.catch_warnings():  # no type in KEY_TYPES is deprecated; keep the library quiet anyway
            warnings.simplefilter("ignore")
            key = load_ssh_public_key(f"{key_type} {data}".encode())
    except ValueError as e:
        said = str(e)
        raise ValueError(next((ours for theirs, ours in _LIBRARY_MESSAGES if theirs in said), said)) from None
    if isinstance(key, RSAPublicKey) and key.key_size < MIN_RSA_BITS:
        raise ValueError(f"RSA key of {key.key_size} bits is too weak (minimum {MIN_RSA_BITS}; prefer ssh-ed25519)")


def public_key(value: Any) -> str:
    """One OpenSSH public key line -> ``type base64 [comment]`` (spaces around the parts trimmed)."""
    value = text(value, "an SSH public key")
    if any(unicodedata.category(ch) == "Cc" and ch != "\t" for ch in value) or "\t" in value:
        raise Invalid(f"SSH key {show(value)} contains a newline or control character",
                      "one key per list item, on one line")
    if len(value) > MAX_KEY_LINE:
        raise Invalid(f"SSH key is {len(value)} characters long", f"at most {MAX_KEY_LINE}")
    line = value.strip()
    key_type = line.split(" ", 1)[0]
    if key_type not in KEY_TYPES:
        found = next((t for t in KEY_TYPES if f" {t} " in f" {line} "), None)
        if found:
            options = line.split(f"{found} ", 1)[0].strip()
            raise Invalid(f"SSH key options are not allowed (found {show(options, 40)})",
                          f"remove everything before '{found}'; Keystone writes authorized_keys without options")
        raise Invalid(f"unsupported SSH key type {show(key_type, 40)}", f"allowed: {', '.join(KEY_TYPES)}")
    match = re.fullmatch(r"(\S+) +(\S+)(?: +(.*))?", line)
    if not match:
        raise Invalid(f"SSH key {show(value)} has no key data", "paste the whole line of the .pub file")
    data, comment = match.group(2), (match.group(3) or "").strip()
    try:
        blob = base64.b64decode(data, validate=True)
        if base64.b64encode(blob).decode() != data:
            raise binascii.Error("not canonical")
        _check_blob(key_type, data, blob)
    except binascii.Error:
        raise Invalid(f"SSH key data of {key_type} is not valid base64", "paste the .pub file's line unchanged") from None
    except ValueError as e:
        raise Invalid(f"SSH key data of {key_type} is invalid: {e}", "paste the .pub file's line unchanged") from None
    if comment and not comment.isprintable():
        raise Invalid(f"SSH key comment {show(comment)} is not printable", "use a plain comment such as user@host")
    return f"{key_type} {data} {comment}" if comment else f"{key_type} {data}"


def blob(key: str) -> str:
    """The ``type base64`` part of a checked key (what identifies it, without the comment)."""
    return " ".join(key.split(" ", 2)[:2])


def fingerprint(key: str) -> str:
    """The key's OpenSSH fingerprint (``SHA256:...``), as ``ssh-keygen -l`` prints it."""
    digest = hashlib.sha256(base64.b64decode(key.split(" ", 2)[1])).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")
