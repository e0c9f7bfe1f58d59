"""A ZeroTier controller test double: a threaded HTTP server on 127.0.0.1 (random port).

``mode="self_hosted"`` answers as a real ZeroTierOne 1.14.1 controller does (the facts are listed
in ``docs/zerotier.md``; ``tests/unit/zerotier/test_zerotier_fake.py`` checks each one):

* auth header ``X-ZT1-Auth``; a missing or wrong token → 401 with body ``{}``;
* routes match only ``/controller/network/<16 hex>/member/<10 hex>`` and the like; anything else,
  an unknown network or member → 404 with an empty body and no ``Content-Type``;
* networks and members are keyed by their **numeric** id: ``ABCDEF0123`` and ``abcdef0123`` are the
  same member, and a ``POST`` rewrites ``id``/``address`` (and ``nwid``) to the spelling in its URL;
* ``POST``/``PUT .../member/<mid>`` creates or updates and answers 200 with the whole record; a
  record that ends up identical keeps its ``revision``, any other change adds 1; member
  ``0000000000`` answers (``revision: 0``) but is never stored;
* a member created without a name (by ``POST`` or by a node's join request) has **no** ``name`` key;
* values are coerced, never refused: ``authorized``/``activeBridge``/``noAutoAssignIps`` as the
  controller's ``jsonBool`` (true, a non-zero number, or a string starting ``t``/``T``/``1``),
  ``name`` as its ``jsonString`` (numbers as decimal, booleans as ``"1"``/``"0"``); each
  ``ipAssignments`` string loses whatever follows a ``/``, a dotted one that ``inet_pton`` refuses
  becomes ``0.0.0.0``, one with a ``:`` that it refuses becomes ``::``, one with neither is dropped,
  the rest come back in ``inet_ntop`` form (``::ffff:10.0.0.1`` stays dotted); ``tags`` keep
  2-element arrays only, one value per tag id, sorted; ``capabilities`` are sorted and de-duplicated;
* a non-string element of ``ipAssignments`` and a body that is not JSON → 500 with
  ``{"error": 500, "description": "..."}`` (formatted unescaped, as the controller does) and nothing
  stored;
* ``DELETE`` answers 200 with the deleted record, a second one 404;
* ``GET .../member`` answers an object ``{memberId: revision}``;
* records carry ``authenticationExpiryTime``, ``lastAuthorizedCredential(Type)``,
  ``remoteTraceLevel``/``Target``, ``ssoExempt``, ``vMajor``/``vMinor``/``vRev``/``vProto``, and
  ``identity`` once the node has asked to join — :meth:`FakeZeroTierController.join` plays that
  request.

``mode="central"`` imitates ZeroTier Central's v1 API (``Authorization: token <t>`` or
``Bearer <t>``; ``/api/v1/network/<nwid>/member/<mid>`` with ``name``, ``description``, ``hidden``
and a ``config`` object).  Central was not observed first-hand: its member shape follows the
published OpenAPI description; its status codes for bad input (400 for a body that is not JSON, a
JSON ``message`` on 401/403/404) and its reuse of the controller's records, coercion and numeric
keys are assumptions of this double.

Test knobs (not controller behaviour): :meth:`fail_next` (answer the next N requests with a 5xx),
:meth:`delay_next` (hold the next N requests S seconds before handling them — the write still lands,
as it would behind a slow link), :attr:`drop_addresses` (addresses the controller silently drops, to
provoke a coercion the provider must notice), :meth:`forbid` (403 for a network), :attr:`requests`
(a log of method, path, status, body), :meth:`set_member`/:meth:`remove_member` (out-of-band
changes, as in the controller UI), :meth:`join` (a node's join request).
"""
from __future__ import annotations

import copy
import hashlib
import json
import re
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.harness.http_double import DoubleHandler
from typing import Any
from collections.abc import Callable, Iterator

import pytest

DEFAULT_TOKEN = "fake-zt1-token-7c2b9e"
DEFAULT_NETWORK = "8056c2e21c000001"
NULL_MEMBER = "0000000000"
API_VERSION = 4
MAX_ARRAY_SIZE = 16384  # the controller stops reading ipAssignments/tags/capabilities there
U64 = 1 << 64

_NETWORK = r"/controller/network/([0-9a-fA-F]{16})"
_ROUTES = {
    "controller": re.compile(r"/controller"),
    "networks": re.compile(r"/controller/network"),
    "network": re.compile(_NETWORK),
    "members": re.compile(_NETWORK + r"/member"),
    "member": re.compile(_NETWORK + r"/member/([0-9a-fA-F]{10})"),
}
_CENTRAL_MEMBER = re.compile(r"/api/v1/network/([0-9a-fA-F]{16})/member/([0-9a-fA-F]{10})")
_CENTRAL_MEMBERS = re.compile(r"/api/v1/network/([0-9a-fA-F]{16})/member")
_CENTRAL_NETWORK = re.compile(r"/api/v1/network/([0-9a-fA-F]{16})")
# what the controller strips from a record before it stores it (computed or transient fields)
_TRANSIENT = ("clock", "physicalAddr", "recentLog", "lastModified", "lastRequestMetaData", "authenticationURL",
              "authenticationClientID")


def _now_ms() -> int:
    return int(time.time() * 1000)


# --- the controller's silent coercion (its OSUtils::json* helpers) ----------------------------------
def _as_u64(value: int | float) -> int:
    """A C cast to ``uint64_t``: truncate, wrap negatives."""
    return int(value) % U64


def strtoull(text: str) -> int:
    """C ``strtoull(text, NULL, 10)``: leading blanks, a sign, digits; 0 when there are none."""
    m = re.match(r"[ \t\n\v\f\r]*([+-]?)([0-9]+)", text)
    if not m:
        return 0
    n = int(m.group(2))
    if n >= U64:
        return U64 - 1
    return (U64 - n) % U64 if m.group(1) == "-" else n


def json_int(value: Any, default: int = 0) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return _as_u64(value) if value == value and abs(value) != float("inf") else default
    if isinstance(value, str):
        return strtoull(value)
    return default


def json_bool(value: Any, default: bool = False) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return json_int(value) > 0
    if isinstance(value, str):
        return value[:1] in ("t", "T", "1")
    return default


def json_string(value: Any, default: str = "") -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return str(json_int(value))
    return default


def _type_name(value: Any) -> str:
    """nlohmann::json's name for a JSON value's type (used in its error messages)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return {dict: "object", list: "array", str: "string"}[type(value)]


def ip_assignment(value: str) -> str | None:
    """What the controller stores for one ``ipAssignments`` string (``None``: dropped).

    It reads the text up to a NUL (at most 63 bytes), cuts it at ``/`` (the rest would be a port),
    then parses it as IPv6 if it holds a ``:``, as IPv4 if it holds a ``.``; a failed parse leaves
    the all-zero address, which it stores all the same.  ``socket`` calls the same libc functions.
    """
    text = value.split("\0", 1)[0]
    if not text or len(text.encode()) >= 64:
        return None
    text = text.split("/", 1)[0]
    family = socket.AF_INET6 if ":" in text else socket.AF_INET if "." in text else None
    if family is None:
        return None
    try:
        packed = socket.inet_pton(family, text)
    except (OSError, ValueError):
        packed = bytes(16 if family == socket.AF_INET6 else 4)
    return socket.inet_ntop(family, packed)


class _Answer(Exception):
    """Raised by a route to send ``status`` with ``body``: ``None`` is an empty body without a content
    type, bytes are sent as they are, anything else as JSON."""

    def __init__(self, status: int, body: Any = None):
        super().__init__(status)
        self.status = status
        self.body = body


def _error_500(what: str) -> _Answer:
    # the controller formats this with snprintf into 1 kB, without escaping the message
    return _Answer(500, f'{{"error": 500, "description": "{what}"}}'.encode()[:1023])


def init_member(member: dict[str, Any]) -> None:
    """The defaults the controller gives every record it touches (``name`` is not among them)."""
    for key, default in (("authorized", False), ("ssoExempt", False), ("ipAssignments", []), ("activeBridge", False),
                         ("tags", []), ("capabilities", []), ("creationTime", _now_ms()), ("noAutoAssignIps", False),
                         ("revision", 0), ("lastDeauthorizedTime", 0), ("lastAuthorizedTime", 0),
                         ("lastAuthorizedCredentialType", None), ("lastAuthorizedCredential", None),
                         ("authenticationExpiryTime", 0), ("vMajor", -1), ("vMinor", -1), ("vRev", -1), ("vProto", -1),
                         ("remoteTraceTarget", None)):
        member.setdefault(key, default)
    member["remoteTraceLevel"] = 0  # 1.14.1 tests for a misspelt key here, so every write resets it
    member["objtype"] = "member"


def apply_post(member: dict[str, Any], body: Any, drop: set[str] | frozenset[str] = frozenset()) -> None:
    """A member POST body applied to ``member`` the way the controller does (500s raised as :class:`_Answer`)."""
    b = body if isinstance(body, dict) else {}
    if "activeBridge" in b:
        member["activeBridge"] = json_bool(b["activeBridge"])
    if "noAutoAssignIps" in b:
        member["noAutoAssignIps"] = json_bool(b["noAutoAssignIps"])
    if "authenticationExpiryTime" in b:
        member["authenticationExpiryTime"] = json_int(b["authenticationExpiryTime"])
    if "name" in b:
        member["name"] = json_string(b["name"])
    if "remoteTraceTarget" in b:
        rtt = json_string(b["remoteTraceTarget"])
        member["remoteTraceTarget"] = rtt if len(rtt.encode()) == 10 else None
    if "remoteTraceLevel" in b:
        member["remoteTraceLevel"] = json_int(b["remoteTraceLevel"])
    if "authorized" in b:
        auth = json_bool(b["authorized"])
        if auth != json_bool(member.get("authorized")):
            member["authorized"] = auth
            member["lastAuthorizedTime" if auth else "lastDeauthorizedTime"] = _now_ms()
            if auth:
                member["lastAuthorizedCredentialType"] = "api"
                member["lastAuthorizedCredential"] = None
    if isinstance(b.get("ipAssignments"), list):
        ips: list[str] = []
        for value in b["ipAssignments"]:
            if not isinstance(value, str):
                raise _error_500(f"[json.exception.type_error.302] type must be string, but is {_type_name(value)}")
            ip = ip_assignment(value)
            if ip is not None and ip not in drop:
                ips.append(ip)
                if len(ips) >= MAX_ARRAY_SIZE:
                    break
        member["ipAssignments"] = ips
    if isinstance(b.get("tags"), list):
        tags: dict[int, int] = {}
        for tag in b["tags"]:
            if isinstance(tag, list) and len(tag) == 2:
                tags[json_int(tag[0]) & 0xFFFFFFFF] = json_int(tag[1]) & 0xFFFFFFFF
        member["tags"] = [[k, tags[k]] for k in sorted(tags)][:MAX_ARRAY_SIZE]
    if isinstance(b.get("capabilities"), list):
        caps = [json_int(c) for c in b["capabilities"][:MAX_ARRAY_SIZE]]
        member["capabilities"] = sorted(set(caps))


@dataclass
class RecordedRequest:
    method: str
    path: str
    status: int | None = None
    body: Any = None


@dataclass
class _Network:
    nwid: str
    name: str
    creation_time: int
    members: dict[int, dict[str, Any]]  # keyed by the numeric node address, as the controller keys them


class FakeZeroTierController:
    def __init__(self, mode: str = "self_hosted", token: str = DEFAULT_TOKEN,
                 networks: tuple[str, ...] = (DEFAULT_NETWORK,)):
        if mode not in ("self_hosted", "central"):
            raise ValueError(f"mode must be self_hosted or central, got {mode!r}")
        self.mode = mode
        self.token = token
        self.drop_addresses: set[str] = set()
        self.requests: list[RecordedRequest] = []
        self._networks: dict[int, _Network] = {}
        self._forbidden: set[int] = set()
        self._fail: list[int] = []  # statuses of the next failing requests
        self._delay: list[float] = []
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        for nwid in networks:
            self.add_network(nwid)

    # --- lifecycle -----------------------------------------------------------------------------
    def start(self) -> FakeZeroTierController:
        if self._server is not None:  # already serving (``with FakeZeroTierController().start() as ctl``)
            return self
        handler = _make_handler(self)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-zerotier", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeZeroTierController:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "controller not started"
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        """The base URL a client is configured with (Central: without ``/api/v1``)."""
        return f"http://127.0.0.1:{self.port}"

    # --- state ---------------------------------------------------------------------------------
    def add_network(self, nwid: str, name: str = "") -> None:
        with self._lock:
            self._networks[int(nwid, 16)] = _Network(nwid.lower(), name, _now_ms(), {})

    def member(self, nwid: str, mid: str) -> dict[str, Any] | None:
        """The stored record (any spelling of either id), or None."""
        with self._lock:
            net = self._networks.get(int(nwid, 16))
            m = net.members.get(int(mid, 16)) if net else None
            return copy.deepcopy(m) if m else None

    def member_ids(self, nwid: str) -> list[str]:
        """The stored members' ``id`` as the controller spells them."""
        with self._lock:
            return sorted(m["id"] for m in self._networks[int(nwid, 16)].members.values())

    def set_member(self, nwid: str, mid: str, **changes: Any) -> dict[str, Any]:
        """An out-of-band change (someone in the controller UI): a self-hosted POST of ``changes``
        to ``mid`` spelt as given (Central's ``description``/``hidden`` are set too)."""
        with self._lock:
            extra = {k: changes.pop(k) for k in ("description", "hidden") if k in changes}
            member = self._post(self._networks[int(nwid, 16)], nwid, mid, changes, extra)
            return copy.deepcopy(member)

    def join(self, nwid: str, mid: str, *, identity: str | None = None,
             version: tuple[int, int, int, int] = (1, 14, 1, 13)) -> dict[str, Any] | None:
        """Node ``mid`` asks to join ``nwid`` (its network config request), as a node that runs
        ``zerotier-cli join`` does.  The record learns the node's identity (kept ever after: a
        different one is refused and changes nothing), its ids are written the node's way
        (lowercase); an authorized member also records the node's version ``(major, minor, rev,
        protocol)``.  Returns the stored record, or None when the request is refused."""
        with self._lock:
            net = self._networks.get(int(nwid, 16))
            if net is None:
                return None
            key = int(mid, 16)
            address = f"{key:010x}"
            member = copy.deepcopy(net.members.get(key, {}))
            init_member(member)
            if identity is None:
                identity = f"{address}:0:{hashlib.sha512(address.encode()).hexdigest()}"
            known = json_string(member.get("identity"))
            if known and known != identity:
                return None
            member["identity"] = identity
            member.update(id=address, address=address, nwid=f"{int(nwid, 16):016x}")
            if json_bool(member["authorized"]):
                member.update(vMajor=version[0], vMinor=version[1], vRev=version[2], vProto=version[3])
            self._save(net, member)
            return copy.deepcopy(member)

    def remove_member(self, nwid: str, mid: str) -> None:
        """An out-of-band deletion."""
        with self._lock:
            self._networks[int(nwid, 16)].members.pop(int(mid, 16), None)

    def remove_network(self, nwid: str) -> None:
        with self._lock:
            self._networks.pop(int(nwid, 16), None)

    # --- test knobs ----------------------------------------------------------------------------
    def fail_next(self, n: int, status: int = 503) -> None:
        with self._lock:
            self._fail.extend([status] * n)

    def delay_next(self, n: int, seconds: float) -> None:
        with self._lock:
            self._delay.extend([seconds] * n)

    def forbid(self, nwid: str) -> None:
        with self._lock:
            self._forbidden.add(int(nwid, 16))

    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self.requests)

    def writes(self) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.method in ("POST", "PUT", "DELETE")]

    def reset_faults(self) -> None:
        with self._lock:
            self._fail.clear()
            self._delay.clear()
            self.drop_addresses.clear()
            self._forbidden.clear()

    # --- the controller's record store ---------------------------------------------------------
    def _post(self, net: _Network, nwid: str, mid: str, body: Any, extra: dict[str, Any]) -> dict[str, Any]:
        """One member POST; ``nwid``/``mid`` as spelt in the URL."""
        key = int(mid, 16)
        member = copy.deepcopy(net.members.get(key, {}))
        init_member(member)
        apply_post(member, body, self.drop_addresses)
        if self.mode == "central":
            member.setdefault("description", "")
            member.setdefault("hidden", False)
            if "description" in extra:
                member["description"] = json_string(extra["description"])
            if "hidden" in extra:
                member["hidden"] = json_bool(extra["hidden"])
        member.update(id=mid, address=mid, nwid=nwid)
        self._save(net, member)
        return member

    @staticmethod
    def _save(net: _Network, member: dict[str, Any]) -> None:
        """Store ``member`` unless its address is 0; a record that differs from the stored one in
        anything but ``revision`` gets ``revision + 1``."""
        for key in _TRANSIENT:
            member.pop(key, None)
        key = int(member["id"], 16)
        if key == 0:
            return
        old = net.members.get(key)
        same = old is not None and {k: v for k, v in old.items() if k != "revision"} == {
            k: v for k, v in member.items() if k != "revision"}
        if not same:
            member["revision"] = json_int(member.get("revision")) + 1
            net.members[key] = copy.deepcopy(member)

    # --- request handling ----------------------------------------------------------------------
    def _next_fault(self) -> tuple[int | None, float]:
        with self._lock:
            status = self._fail.pop(0) if self._fail else None
            delay = self._delay.pop(0) if (self._delay and status is None) else 0.0
            return status, delay

    def handle(self, method: str, path: str, headers: Any, raw: bytes) -> tuple[int, Any]:
        if not self._authorized(headers):
            raise _Answer(401, {} if self.mode == "self_hosted" else {"message": "unauthorized"})
        path = path.split("?", 1)[0]
        with self._lock:
            if self.mode == "self_hosted":
                return self._self_hosted(method, path, raw)
            return self._central(method, path, raw)

    def _authorized(self, headers: Any) -> bool:
        if self.mode == "self_hosted":
            return headers.get("X-ZT1-Auth") == self.token
        scheme, _, value = (headers.get("Authorization") or "").partition(" ")
        return scheme.lower() in ("token", "bearer") and value.strip() == self.token

    def _parse_body(self, raw: bytes) -> Any:
        text = raw.split(b"\0", 1)[0]  # the controller parses the body as a C string

        def no_constant(name: str) -> Any:
            raise ValueError(f"invalid literal {name}")

        try:
            return json.loads(text.decode("utf-8"), parse_constant=no_constant)
        except json.JSONDecodeError as e:
            if self.mode == "central":
                raise _Answer(400, {"message": "invalid JSON body"}) from None
            raise _error_500(f"[json.exception.parse_error.101] parse error at line {e.lineno}, column {e.colno}: "
                             f"syntax error while parsing value - {e.msg}") from None
        except (UnicodeDecodeError, ValueError) as e:
            if self.mode == "central":
                raise _Answer(400, {"message": "invalid JSON body"}) from None
            raise _error_500(f"[json.exception.parse_error.101] parse error: syntax error while parsing value - "
                             f"{type(e).__name__}") from None

    def _network(self, nwid: str) -> _Network:
        net = self._networks.get(int(nwid, 16))
        if net is None:
            raise self._not_found()
        if int(nwid, 16) in self._forbidden:
            raise _Answer(403, {} if self.mode == "self_hosted" else {"message": "forbidden"})
        return net

    def _not_found(self) -> _Answer:
        return _Answer(404, None if self.mode == "self_hosted" else {"message": "not found"})

    def _match(self, route: str, path: str) -> tuple[str, ...] | None:
        m = _ROUTES[route].fullmatch(path)
        return m.groups() if m else None

    # self-hosted: /controller/...
    def _self_hosted(self, method: str, path: str, raw: bytes) -> tuple[int, Any]:
        if method == "GET" and self._match("controller", path) is not None:
            return 200, {"controller": True, "apiVersion": API_VERSION, "clock": _now_ms(), "databaseReady": True}
        if method == "GET" and self._match("networks", path) is not None:
            return 200, sorted(f"{k:016x}" for k in self._networks)
        if method == "GET" and (g := self._match("network", path)):
            return 200, self._network_json(self._network(g[0]))
        if method == "GET" and (g := self._match("members", path)):
            members = self._network(g[0]).members.values()
            return 200, {m["id"]: json_int(m["revision"]) for m in members if len(m["id"]) == 10}
        g = self._match("member", path)
        if g is None:
            raise self._not_found()
        nwid, mid = g
        if method == "GET":
            member = self._network(nwid).members.get(int(mid, 16))
            if member is None:
                raise self._not_found()
            return 200, member
        if method == "DELETE":
            member = self._network(nwid).members.pop(int(mid, 16), None)
            if member is None:
                raise self._not_found()
            return 200, member
        if method in ("POST", "PUT"):
            net = self._network(nwid)  # an unknown network is a 404 before the body is read
            return 200, self._post(net, nwid, mid, self._parse_body(raw), {})
        raise self._not_found()

    # central: /api/v1/network/...
    def _central(self, method: str, path: str, raw: bytes) -> tuple[int, Any]:
        if method == "GET" and (g := _CENTRAL_NETWORK.fullmatch(path)):
            return 200, self._central_network_json(self._network(g[1]))
        if method == "GET" and (g := _CENTRAL_MEMBERS.fullmatch(path)):
            net = self._network(g[1])
            return 200, [self._central_json(net, m) for m in net.members.values()]
        g = _CENTRAL_MEMBER.fullmatch(path)
        if g is None:
            raise self._not_found()
        net = self._network(g[1])
        key = int(g[2], 16)
        if method == "GET":
            if key not in net.members:
                raise self._not_found()
            return 200, self._central_json(net, net.members[key])
        if method == "DELETE":
            if net.members.pop(key, None) is None:
                raise self._not_found()
            return 200, None
        if method == "POST":
            body = self._parse_body(raw)
            body = body if isinstance(body, dict) else {}
            config = dict(body["config"]) if isinstance(body.get("config"), dict) else {}
            if "name" in body:
                config["name"] = body["name"]
            try:
                member = self._post(net, net.nwid, g[2], config,
                                    {k: body[k] for k in ("description", "hidden") if k in body})
            except _Answer:
                raise _Answer(400, {"message": "invalid member config"}) from None
            return 200, self._central_json(net, member)
        raise self._not_found()

    # --- answer shapes -------------------------------------------------------------------------
    @staticmethod
    def _network_json(net: _Network) -> dict[str, Any]:
        return {"id": net.nwid, "nwid": net.nwid, "name": net.name, "objtype": "network", "private": True,
                "creationTime": net.creation_time, "revision": 1, "ipAssignmentPools": [], "routes": [],
                "v4AssignMode": {"zt": False}, "v6AssignMode": {"zt": False, "6plane": False, "rfc4193": False}}

    @staticmethod
    def _central_network_json(net: _Network) -> dict[str, Any]:
        return {"id": net.nwid, "clock": _now_ms(), "config": {"id": net.nwid, "name": net.name, "private": True,
                                                                "creationTime": net.creation_time}}

    @staticmethod
    def _central_json(net: _Network, m: dict[str, Any]) -> dict[str, Any]:
        config = {k: copy.deepcopy(m[k]) for k in ("authorized", "activeBridge", "noAutoAssignIps", "ipAssignments",
                                                     "tags", "capabilities", "creationTime", "lastAuthorizedTime",
                                                     "lastDeauthorizedTime", "revision", "vMajor", "vMinor", "vRev",
                                                     "vProto", "ssoExempt")}
        config.update(id=m["id"], identity=m.get("identity", ""))
        return {"id": f"{net.nwid}-{m['id']}", "clock": _now_ms(), "networkId": net.nwid, "nodeId": m["id"],
                "controllerId": net.nwid[:10], "hidden": m.get("hidden", False), "name": m.get("name"),
                "description": m.get("description", ""), "config": config, "lastOnline": 0, "lastSeen": 0,
                "physicalAddress": "", "clientVersion": "", "protocolVersion": -1, "supportsRulesEngine": False}


def _make_handler(ctl: FakeZeroTierController) -> type[BaseHTTPRequestHandler]:
    class Handler(DoubleHandler):
        server_version = "ZeroTierOne-fake"
        sys_version = ""

        def _dispatch(self) -> None:
            raw = self.body()
            try:
                parsed: Any = json.loads(raw) if raw else None
            except ValueError:
                parsed = raw.decode("utf-8", "replace")
            record = RecordedRequest(self.command, self.path, None, parsed)
            with ctl._lock:
                ctl.requests.append(record)
            status, delay = ctl._next_fault()
            if status is not None:
                record.status = status
                return self.answer(status, b"Service Unavailable" if status == 503 else b"", "text/plain")
            if delay:
                time.sleep(delay)
            try:
                code, body = ctl.handle(self.command, self.path, self.headers, raw)
            except _Answer as a:
                code, body = a.status, a.body
            record.status = code
            if body is None:
                return self.answer(code, b"", None)
            if isinstance(body, bytes):
                return self.answer(code, body, "application/json")
            # the controller's JSON library keeps object keys sorted and writes compact UTF-8
            payload = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
            self.answer(code, payload, "application/json")

        do_GET = do_POST = do_PUT = do_DELETE = _dispatch

    return Handler


# --- pytest fixtures (import them into a test module, or into a conftest of your own directory) ---
@pytest.fixture
def controller_factory() -> Iterator[Callable[..., FakeZeroTierController]]:
    """``controller_factory(mode="self_hosted", token=..., networks=...)`` → a started double, stopped at teardown."""
    started: list[FakeZeroTierController] = []

    def make(mode: str = "self_hosted", **kwargs: Any) -> FakeZeroTierController:
        ctl = FakeZeroTierController(mode, **kwargs).start()
        started.append(ctl)
        return ctl

    yield make
    for ctl in started:
        ctl.stop()


@pytest.fixture
def controller(controller_factory: Callable[..., FakeZeroTierController]) -> FakeZeroTierController:
    """A started self-hosted controller double with network :data:`DEFAULT_NETWORK`."""
    return controller_factory("self_hosted")


@pytest.fixture
def central_controller(controller_factory: Callable[..., FakeZeroTierController]) -> FakeZeroTierController:
    """A started Central v1 double with network :data:`DEFAULT_NETWORK`."""
    return controller_factory("central")
