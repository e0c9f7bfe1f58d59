"""URLs a setting names (API servers, issuers, services, repositories): one parse, one rule for the
host and the port.  Standard library only.

``url_parts`` splits ``scheme://[userinfo@]host[:port][path]``; ``url_host`` is the host rule: a DNS
name of RFC 1123 labels (letters, digits, inner ``-``; no empty label, at most 63 per label and 253
in all), an IPv4 address, or an IPv6 address in brackets.  A URL's credentials are never echoed.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any

from .core import Invalid, show, text

LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_URL = re.compile(r"([a-z][a-z0-9+.-]*)://(?:([^/@]*)@)?(\[[^\]/]*\]|[^/:]*)(?::([^/]*))?(/.*)?", re.S)


@dataclass(frozen=True)
class Url:
    scheme: str
    userinfo: str | None
    host: str
    port: int | None
    path: str


def url_host(host: str, what: str) -> str:
    """A URL's host: a DNS name, an IPv4 address or a bracketed IPv6 address."""
    hint = "a DNS name (letters, digits and inner '-' between dots), an IPv4 address or [an IPv6 address]"
    if host.startswith("[") and host.endswith("]"):
        try:
            ip = ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise Invalid(f"{what} has an invalid IPv6 address {show(host)}", hint) from None
        if ip.scope_id:
            raise Invalid(f"{what} has an IPv6 address with a zone index {show(host)}", hint)
        return host
    if not host:
        raise Invalid(f"{what} has no host", hint)
    if re.fullmatch(r"[0-9.]+", host):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            raise Invalid(f"{what} has an invalid IPv4 address {show(host)}", hint) from None
        return host
    labels = host.removesuffix(".").split(".")
    if len(host) > 253 or not all(LABEL.fullmatch(label) for label in labels):
        raise Invalid(f"{what} has an invalid host name {show(host)}", hint)
    return host


def url_parts(value: Any, what: str, schemes: tuple[str, ...]) -> Url:
    """``scheme://[userinfo@]host[:port][/path]`` with one of ``schemes``, a valid host and port;
    the path is checked by the caller.  Whitespace and control characters are refused anywhere."""
    v = text(value, what)
    hint = f"{'|'.join(schemes)}://host[:port][/path]"
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in v):
        raise Invalid(f"{what} contains a space or a control character", hint)
    m = _URL.fullmatch(v)
    if not m or m.group(1) not in schemes:
        safe = v if "@" not in v else "(not shown: it names credentials)"
        raise Invalid(f"{what} {show(safe)} is not a {' or '.join(schemes)} URL", hint)
    scheme, userinfo, host, port, path = m.groups()
    url_host(host, what)
    number = None
    if port is not None:
        if not re.fullmatch(r"[0-9]{1,5}", port) or not 1 <= int(port) <= 65535:
            raise Invalid(f"{what} has port {show(port)}", "a port from 1 to 65535 after the host: " + hint)
        number = int(port)
    return Url(scheme, userinfo, host, number, path or "")


def http_url(value: Any, what: str = "URL") -> str:
    """``http(s)://host[:port][/path]``: no credentials (they would be stored in plain text), no query."""
    v = text(value, what)
    if "@" in v:  # never echo it: it may carry a password
        raise Invalid(f"{what} must not contain credentials ('user:password@')",
                      "the token is a secret: pulumi config set --secret ...")
    hint = "http(s)://host[:port][/path], no query or spaces"
    if not re.fullmatch(r"https?://[^\s/]*(/[A-Za-z0-9._~/-]*)?", v):
        raise Invalid(f"{what} {show(v)} is not an http(s) URL", hint)
    url_parts(v, what, ("http", "https"))  # the host and the port
    return v


def https_url(value: Any, what: str = "URL") -> str:
    """``http_url`` with TLS required: a URL a person's token travels to (a login, an API call)."""
    v = http_url(value, what)
    if not v.startswith("https://"):
        raise Invalid(f"{what} {show(v)} is not https", "the person's token travels to it: https://host[:port][/path]")
    return v
