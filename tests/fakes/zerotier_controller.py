"""A ZeroTier controller test double: a threaded HTTP server on 127.0.0.1 (random port).

``mode="self_hosted"`` reproduces the behaviour recorded on a real ZeroTierOne 1.14.1 controller
(DESIGN.md §5) — and only that, exactly:

* auth header ``X-ZT1-Auth``; missing or wrong token → 401 with body ``{}``;
* ``POST``/``PUT /controller/network/<nwid>/member/<mid>`` creates or updates and answers 200 with
  the full member; an identical body leaves ``revision`` unchanged, a real change adds 1;
* ``DELETE`` answers 200 with the deleted member, a second ``DELETE`` 404;
* ``GET /controller/network/<nwid>/member`` answers an object ``{memberId: revision}``;
* member ids are stored **as typed** (``ABCDEF0123`` and ``abcdef0123`` are two members);
  ``0000000000`` answers 200 but is never stored;
* unknown network or member, malformed ids, unknown paths → 404 with an empty body;
  malformed JSON → 500 ``{"error":500,"description":...}``;
* unknown keys and read-only fields are ignored; values are coerced silently the way the
  controller's ``jsonBool``/``jsonString`` helpers do (``"authorized": "yes"`` → false, only
  ``true``, a non-zero integer or a string starting ``t``/``T``/``1`` is true); invalid addresses
  are dropped; addresses outside every pool are accepted (the double has no pools).

``mode="central"`` imitates ZeroTier Central's v1 API (``Authorization: token <t>`` or
``Bearer <t>``; ``/api/v1/network/<nwid>/member/<mid>`` with ``name``, ``description``, ``hidden``
and a ``config`` object).  Central was not observed first-hand: its member shape follows the
published OpenAPI description; its status codes for bad input (400 for malformed JSON, a JSON
``message`` on 401/403/404) and its reuse of the controller's coercion and as-typed ids are
assumptions of this double.

Test knobs (not controller behaviour): :meth:`fail_next` (answer the next N requests with a 5xx),
:meth:`delay_next` (hold the next N requests S seconds before handling them — the write still lands,
as it would behind a slow link), :attr:`drop_addresses` (addresses the controller silently drops as
if invalid, to provoke coercion), :meth:`forbid` (403 for a network), :attr:`requests` (a log of
method, path, status), :meth:`set_member`/:meth:`remove_member` (out-of-band changes, as in the controller UI).
"""
from __future__ import annotations

import copy
import ipaddress
import json
import re
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterator

import pytest

DEFAULT_TOKEN = "fake-zt1-token-7c2b9e"
DEFAULT_NETWORK = "8056c2e21c000001"
NULL_MEMBER = "0000000000"

_HEX10 = re.compile(r"^[0-9a-fA-F]{10}$")
_HEX16 = re.compile(r"^[0-9a-fA-F]{16}$")
_MEMBER_FIELDS = ("id", "address", "nwid", "authorized", "name", "ipAssignments", "activeBridge", "noAutoAssignIps",
                  "tags", "capabilities", "revision", "creationTime", "lastAuthorizedTime", "lastDeauthorizedTime",
                  "objtype")
_MUTABLE = ("authorized", "name", "ipAssignments", "activeBridge", "noAutoAssignIps", "tags", "capabilities",
            "description", "hidden")


def _now_ms() -> int:
    return int(time.time() * 1000)


# --- the controller's silent coercion -------------------------------------------------------------
def json_bool(value: Any, default: bool = False) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    if isinstance(value, str):
        return value[:1] in ("t", "T", "1")
    return default


def json_string(value: Any, default: str = "") -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return default


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
    members: dict[str, dict[str, Any]]


class _Answer(Exception):
    """Raised by a route to send ``status`` with ``body`` (``None``: empty body)."""

    def __init__(self, status: int, body: Any = None):
        super().__init__(status)
        self.status = status
        self.body = body


class FakeZeroTierController:
    def __init__(self, mode: str = "self_hosted", token: str = DEFAULT_TOKEN,
                 networks: tuple[str, ...] = (DEFAULT_NETWORK,)):
        if mode not in ("self_hosted", "central"):
            raise ValueError(f"mode must be self_hosted or central, got {mode!r}")
        self.mode = mode
        self.token = token
        self.drop_addresses: set[str] = set()
        self.requests: list[RecordedRequest] = []
        self._networks: dict[str, _Network] = {}
        self._forbidden: set[str] = set()
        self._fail: list[int] = []  # statuses of the next failing requests
        self._delay: list[float] = []
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        for nwid in networks:
            self.add_network(nwid)

    # --- lifecycle -----------------------------------------------------------------------------
    def start(self) -> "FakeZeroTierController":
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

    def __enter__(self) -> "FakeZeroTierController":
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
            self._networks[nwid] = _Network(nwid, name, _now_ms(), {})

    def member(self, nwid: str, mid: str) -> dict[str, Any] | None:
        """The stored member (self-hosted shape plus ``description``/``hidden``), or None."""
        with self._lock:
            net = self._networks.get(nwid)
            m = net.members.get(mid) if net else None
            return copy.deepcopy(m) if m else None

    def member_ids(self, nwid: str) -> list[str]:
        with self._lock:
            return sorted(self._networks[nwid].members)

    def set_member(self, nwid: str, mid: str, **changes: Any) -> dict[str, Any]:
        """An out-of-band change (someone in the controller UI): applies like a self-hosted POST."""
        with self._lock:
            net = self._networks[nwid]
            member = net.members.get(mid) or self._new_member(net, mid)
            self._apply(member, changes, {k: changes[k] for k in ("description", "hidden") if k in changes})
            net.members[mid] = member
            return copy.deepcopy(member)

    def remove_member(self, nwid: str, mid: str) -> None:
        """An out-of-band deletion."""
        with self._lock:
            self._networks[nwid].members.pop(mid, None)

    def remove_network(self, nwid: str) -> None:
        with self._lock:
            self._networks.pop(nwid, None)

    # --- test knobs ----------------------------------------------------------------------------
    def fail_next(self, n: int, status: int = 503) -> None:
        with self._lock:
            self._fail.extend([status] * n)

    def delay_next(self, n: int, seconds: float) -> None:
        with self._lock:
            self._delay.extend([seconds] * n)

    def forbid(self, nwid: str) -> None:
        with self._lock:
            self._forbidden.add(nwid)

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
        if self.mode == "self_hosted":
            return self._self_hosted(method, path, raw)
        return self._central(method, path, raw)

    def _authorized(self, headers: Any) -> bool:
        if self.mode == "self_hosted":
            return headers.get("X-ZT1-Auth") == self.token
        scheme, _, value = (headers.get("Authorization") or "").partition(" ")
        return scheme.lower() in ("token", "bearer") and value.strip() == self.token

    def _parse_body(self, raw: bytes) -> Any:
        try:
            return json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            if self.mode == "self_hosted":
                raise _Answer(500, {"error": 500, "description": f"JSON parse error: {e}"}) from None
            raise _Answer(400, {"message": "invalid JSON body"}) from None

    def _network(self, nwid: str) -> _Network:
        if not _HEX16.fullmatch(nwid) or nwid not in self._networks:
            raise _Answer(404, None if self.mode == "self_hosted" else {"message": "network not found"})
        if nwid in self._forbidden:
            raise _Answer(403, {} if self.mode == "self_hosted" else {"message": "forbidden"})
        return self._networks[nwid]

    def _not_found(self) -> _Answer:
        return _Answer(404, None if self.mode == "self_hosted" else {"message": "not found"})

    # self-hosted: /controller/...
    def _self_hosted(self, method: str, path: str, raw: bytes) -> tuple[int, Any]:
        parts = [p for p in path.split("/") if p]
        if parts[:1] != ["controller"]:
            raise self._not_found()
        with self._lock:
            if parts == ["controller"] and method == "GET":
                return 200, {"controller": True, "apiVersion": 4, "clock": _now_ms()}
            if parts == ["controller", "network"] and method == "GET":
                return 200, sorted(self._networks)
            if len(parts) == 3 and parts[1] == "network" and method == "GET":
                return 200, self._network_json(self._network(parts[2]))
            if len(parts) == 4 and parts[1] == "network" and parts[3] == "member" and method == "GET":
                net = self._network(parts[2])
                return 200, {mid: m["revision"] for mid, m in net.members.items()}
            if len(parts) == 5 and parts[1] == "network" and parts[3] == "member":
                return self._member_call(method, self._network(parts[2]), parts[4], raw)
        raise self._not_found()

    # central: /api/v1/network/...
    def _central(self, method: str, path: str, raw: bytes) -> tuple[int, Any]:
        parts = [p for p in path.split("/") if p]
        if parts[:3] != ["api", "v1", "network"]:
            raise self._not_found()
        parts = parts[2:]
        with self._lock:
            if len(parts) == 2 and method == "GET":
                return 200, self._central_network_json(self._network(parts[1]))
            if len(parts) == 3 and parts[2] == "member" and method == "GET":
                net = self._network(parts[1])
                return 200, [self._central_json(net, m) for m in net.members.values()]
            if len(parts) == 4 and parts[2] == "member":
                status, member = self._member_call(method, self._network(parts[1]), parts[3], raw)
                if method == "DELETE":
                    return status, None
                return status, self._central_json(self._networks[parts[1]], member)
        raise self._not_found()

    def _member_call(self, method: str, net: _Network, mid: str, raw: bytes) -> tuple[int, dict[str, Any]]:
        if not _HEX10.fullmatch(mid):
            raise self._not_found()
        if method == "GET":
            member = net.members.get(mid)
            if member is None:
                raise self._not_found()
            return 200, member
        if method == "DELETE":
            member = net.members.pop(mid, None)
            if member is None:
                raise self._not_found()
            return 200, member
        if method in ("POST", "PUT") and (method == "POST" or self.mode == "self_hosted"):
            body = self._parse_body(raw)
            member = net.members.get(mid) or self._new_member(net, mid)
            if isinstance(body, dict):
                if self.mode == "central":
                    config = body.get("config") if isinstance(body.get("config"), dict) else {}
                    top = {k: body[k] for k in ("name", "description", "hidden") if k in body}
                    self._apply(member, {**config, **({"name": top["name"]} if "name" in top else {})}, top)
                else:
                    self._apply(member, body, {})
            if mid != NULL_MEMBER:
                net.members[mid] = member
            return 200, member
        raise self._not_found()

    def _new_member(self, net: _Network, mid: str) -> dict[str, Any]:
        return {"id": mid, "address": mid, "nwid": net.nwid, "authorized": False, "name": "", "ipAssignments": [],
                "activeBridge": False, "noAutoAssignIps": False, "tags": [], "capabilities": [], "revision": 0,
                "creationTime": _now_ms(), "lastAuthorizedTime": 0, "lastDeauthorizedTime": 0, "objtype": "member",
                "description": "", "hidden": False}

    def _apply(self, member: dict[str, Any], body: dict[str, Any], extra: dict[str, Any]) -> None:
        before = {k: copy.deepcopy(member.get(k)) for k in _MUTABLE}
        if "authorized" in body:
            auth = json_bool(body["authorized"], False)
            if auth and not member["authorized"]:
                member["lastAuthorizedTime"] = _now_ms()
            if not auth and member["authorized"]:
                member["lastDeauthorizedTime"] = _now_ms()
            member["authorized"] = auth
        for key in ("activeBridge", "noAutoAssignIps"):
            if key in body:
                member[key] = json_bool(body[key], False)
        if "name" in body:
            member["name"] = json_string(body["name"], "")
        if isinstance(body.get("ipAssignments"), list):
            ips = []
            for value in body["ipAssignments"]:
                try:
                    ip = str(ipaddress.ip_address(value)) if isinstance(value, str) else None
                except ValueError:
                    ip = None
                if ip is not None and ip not in self.drop_addresses and value not in self.drop_addresses:
                    ips.append(ip)
            member["ipAssignments"] = ips
        for key in ("tags", "capabilities"):
            if isinstance(body.get(key), list):
                member[key] = copy.deepcopy(body[key])
        if "description" in extra:
            member["description"] = json_string(extra["description"], "")
        if "hidden" in extra:
            member["hidden"] = json_bool(extra["hidden"], False)
        if member["revision"] == 0 or before != {k: member.get(k) for k in _MUTABLE}:
            member["revision"] += 1

    # --- answer shapes -------------------------------------------------------------------------
    @staticmethod
    def member_json(member: dict[str, Any]) -> dict[str, Any]:
        return {k: copy.deepcopy(member[k]) for k in _MEMBER_FIELDS}

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
                                                     "lastDeauthorizedTime", "revision")}
        config.update(id=m["id"], identity="", vMajor=-1, vMinor=-1, vRev=-1, vProto=-1, ssoExempt=False)
        return {"id": f"{net.nwid}-{m['id']}", "clock": _now_ms(), "networkId": net.nwid, "nodeId": m["id"],
                "controllerId": net.nwid[:10], "hidden": m["hidden"], "name": m["name"],
                "description": m["description"], "config": config, "lastOnline": 0, "lastSeen": 0,
                "physicalAddress": "", "clientVersion": "", "protocolVersion": -1, "supportsRulesEngine": False}


def _make_handler(ctl: FakeZeroTierController) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "ZeroTierOne-fake"
        sys_version = ""

        def log_message(self, *args: Any) -> None:
            pass

        def _dispatch(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
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
                return self._send(status, b"Service Unavailable" if status == 503 else b"", "text/plain")
            if delay:
                time.sleep(delay)
            try:
                code, body = ctl.handle(self.command, self.path, self.headers, raw)
                if ctl.mode == "self_hosted" and isinstance(body, dict) and body.get("objtype") == "member":
                    body = FakeZeroTierController.member_json(body)
            except _Answer as a:
                code, body = a.status, a.body
            record.status = code
            payload = b"" if body is None else json.dumps(body).encode()
            self._send(code, payload, "application/json")

        def _send(self, code: int, payload: bytes, ctype: str) -> None:
            try:
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
                self.close_connection = True

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
