"""Password hashes for ``/etc/shadow``: crypt(5) SHA-512 (``$6$``) or yescrypt (``$y$``) only.

Messages never echo the value: it may be a plaintext password pasted by mistake.  Standard library only.
"""
from __future__ import annotations

import re
from typing import Any

from .core import Invalid, passes

SHA512_CRYPT_PATTERN = r"^\$6\$(rounds=([0-9]{1,9})\$)?[./0-9A-Za-z]{1,16}\$[./0-9A-Za-z]{86}$"
YESCRYPT_PATTERN = r"^\$y\$[./0-9A-Za-z]{1,64}\$[./0-9A-Za-z]{1,86}\$[./0-9A-Za-z]{43}$"
MIN_ROUNDS, MAX_ROUNDS = 1000, 999999999
"""SHA-512-crypt's rounds= range (crypt(5))."""
_SCHEME_NAMES = {"1": "MD5-crypt", "2a": "bcrypt", "2b": "bcrypt", "2y": "bcrypt", "5": "SHA-256-crypt",
                 "7": "scrypt", "gy": "gost-yescrypt", "sha1": "SHA-1-crypt"}


def password_hash(value: Any) -> str:
    """A ``$6$`` or ``$y$`` crypt hash, unchanged; ``Invalid`` says what else it looks like."""
    if not isinstance(value, str):
        raise Invalid("the password hash must be a string", "put the hash in quotes, or use null")
    if not value.startswith("$"):
        if value[:1] in ("!", "*"):
            raise Invalid("a locked-password marker is not a hash", "use null: passwords are locked by default")
        raise Invalid("this looks like a plaintext password, which must never be in the roster",
                      "store a hash made with `mkpasswd -m yescrypt` or `openssl passwd -6`, and change the exposed "
                      "password")
    scheme = value.split("$")[1] if value.count("$") >= 2 else ""
    if scheme not in ("6", "y"):
        label = _SCHEME_NAMES.get(scheme, "unknown")
        raise Invalid(f"password hash scheme ${scheme}$ ({label}) is not accepted",
                      "only yescrypt ($y$) or SHA-512-crypt ($6$): mkpasswd -m yescrypt")
    pattern = SHA512_CRYPT_PATTERN if scheme == "6" else YESCRYPT_PATTERN
    match = re.fullmatch(pattern[1:-1], value)
    if not match:
        raise Invalid(f"malformed ${scheme}$ password hash", "copy the complete hash, e.g. from mkpasswd")
    if scheme == "6" and match.group(2) and not MIN_ROUNDS <= int(match.group(2)) <= MAX_ROUNDS:
        raise Invalid("SHA-512-crypt rounds must be between 1000 and 999999999", "regenerate the hash")
    return value


def is_hash(value: Any) -> bool:
    """True if ``password_hash`` accepts ``value``."""
    return passes(password_hash, value)
