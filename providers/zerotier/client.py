"""The only module of Keystone that talks HTTP to ZeroTier: Central v1 or a self-hosted controller.

* One ``requests.Session`` per ``(base_url, mode)``, created lazily and cached at module level (a
  provider instance is pickled into state and must hold no connections).  Sessions are shared by
  the dynamic-provider host's worker threads; the token is sent per request, never stored.
* urllib3 ``Retry`` with exponential backoff retries connect errors, read timeouts and 429/5xx
  answers — for POST/PUT/DELETE too: the upsert is idempotent, and a DELETE that is repeated after
  a lost answer finds 404, which :meth:`ZeroTierClient.delete_member` treats as done.
* Every request has explicit (connect, read) timeouts.
* Errors name the method, URL, network, member and mode, with a hint; the token never appears in
  them (it is masked should an answer echo it).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from providers.zerotier.model import CENTRAL_API_PREFIX, MODES, ZeroTierError, ZeroTierResponseError, answer_id, clip

MASK = "********"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
RETRY_METHODS = frozenset({"GET", "PUT", "POST", "DELETE"})
TOKEN_HINT = "check the zerotier token secret (stack config keystone:zerotierToken, or env KEYSTONE_ZEROTIER_TOKEN)"


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: ``retries`` extra attempts, backoff ``factor * 2**(n-1)`` s capped at ``backoff_max``."""

    retries: int = 4
    backoff_factor: float = 0.5
    backoff_max: float = 10.0

    def urllib3_retry(self) -> Retry:
        return Retry(
            total=self.retries, connect=self.retries, read=self.retries, status=self.retries, other=0,
            redirect=0, allowed_methods=RETRY_METHODS, status_forcelist=RETRY_STATUSES,
            backoff_factor=self.backoff_factor, backoff_max=self.backoff_max,
            raise_on_status=False, raise_on_redirect=False, respect_retry_after_header=True,
        )


@dataclass(frozen=True)
class Timeouts:
    connect: float = 5.0
    read: float = 20.0

    def as_tuple(self) -> tuple[float, float]:
        return (self.connect, self.read)


class ZeroTierAPIError(ZeroTierError):
    """An HTTP error answer (or no answer at all) from the ZeroTier API."""

    def __init__(self, message: str, *, status: int | None = None, method: str = "", url: str = ""):
        super().__init__(message)
        self.status = status
        self.method = method
        self.url = url


_SESSIONS: dict[tuple[str, str], requests.Session] = {}
_SESSIONS_LOCK = threading.Lock()


def session_for(base_url: str, mode: str, policy: RetryPolicy) -> requests.Session:
    """The cached session for one API endpoint (the retry policy is fixed when it is first created)."""
    key = (base_url, mode)
    with _SESSIONS_LOCK:
        session = _SESSIONS.get(key)
        if session is None:
            session = requests.Session()
            adapter = HTTPAdapter(max_retries=policy.urllib3_retry(), pool_connections=2, pool_maxsize=8)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            session.headers.update({"Accept": "application/json", "User-Agent": "keystone-zerotier/1"})
            _SESSIONS[key] = session
        return session


def clear_sessions() -> None:
    """Close and forget every cached session (tests; after a fork)."""
    with _SESSIONS_LOCK:
        for session in _SESSIONS.values():
            session.close()
        _SESSIONS.clear()


def auth_headers(mode: str, token: str) -> dict[str, str]:
    if mode == "central":
        return {"Authorization": f"token {token}"}
    return {"X-ZT1-Auth": token}


def _mode_label(mode: str) -> str:
    return "ZeroTier Central API" if mode == "central" else "self-hosted ZeroTier controller"


class ZeroTierClient:
    """Member calls against one endpoint.  Cheap to build per call; holds nothing worth pickling."""

    def __init__(self, mode: str, base_url: str, token: str, *, timeouts: Timeouts = Timeouts(),
                 policy: RetryPolicy = RetryPolicy()):
        if mode not in MODES:
            raise ValueError(f"unknown ZeroTier API mode {mode!r} (expected one of {', '.join(MODES)})")
        if not token:
            raise ZeroTierError(f"no ZeroTier API token for the {_mode_label(mode)} at {base_url}: {TOKEN_HINT}")
        self.mode = mode
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.timeouts = timeouts
        self.policy = policy

    def __reduce__(self):  # never let a client (and its token) reach a pickle
        raise TypeError("ZeroTierClient must not be pickled (it carries the API token)")

    # --- URLs -----------------------------------------------------------------------------------
    # Ids go into a URL only as hex digits and lowercased: the controller keys members by number but
    # writes the URL's spelling into the record, and a node's own join request writes lowercase.
    def network_url(self, network_id: str) -> str:
        nwid = answer_id(network_id, 16)
        if self.mode == "central":
            return f"{self.base_url}{CENTRAL_API_PREFIX}/network/{nwid}"
        return f"{self.base_url}/controller/network/{nwid}"

    def member_url(self, network_id: str, member_id: str) -> str:
        return f"{self.network_url(network_id)}/member/{answer_id(member_id, 10)}"

    # --- calls ----------------------------------------------------------------------------------
    def get_member(self, network_id: str, member_id: str) -> Any | None:
        """The member's JSON, or ``None`` when the API answers 404."""
        return self._call("GET", self.member_url(network_id, member_id), network_id, member_id, missing_ok=True)

    def upsert_member(self, network_id: str, member_id: str, body: dict[str, Any]) -> Any:
        """Create or update (POST; idempotent); the answer is the member as stored."""
        return self._call("POST", self.member_url(network_id, member_id), network_id, member_id, body=body)

    def delete_member(self, network_id: str, member_id: str) -> bool:
        """DELETE the member; ``False`` when it was already gone (404)."""
        url = self.member_url(network_id, member_id)
        return self._call("DELETE", url, network_id, member_id, missing_ok=True, want_json=False) is not None

    def network_exists(self, network_id: str) -> bool:
        return self._call("GET", self.network_url(network_id), network_id, None, missing_ok=True) is not None

    def list_members(self, network_id: str) -> Any:
        """Self-hosted: ``{memberId: revision}``; Central: a list of member objects."""
        return self._call("GET", f"{self.network_url(network_id)}/member", network_id, None)

    # --- plumbing -------------------------------------------------------------------------------
    def _mask(self, text: str) -> str:
        return text.replace(self._token, MASK) if self._token else text

    def _where(self, network_id: str, member_id: str | None) -> str:
        return f"network {network_id}" + (f", member {member_id}" if member_id else "")

    def _call(self, method: str, url: str, network_id: str, member_id: str | None, *, body: Any = None,
              missing_ok: bool = False, want_json: bool = True) -> Any:
        session = session_for(self.base_url, self.mode, self.policy)
        label = _mode_label(self.mode)
        where = self._where(network_id, member_id)
        try:
            resp = session.request(method, url, json=body, headers=auth_headers(self.mode, self._token),
                                   timeout=self.timeouts.as_tuple(), allow_redirects=False)
        except requests.RequestException as e:
            raise ZeroTierAPIError(
                f"{label}: {method} {url} ({where}) got no usable answer after {self.policy.retries} retries: "
                f"{self._mask(_reason(e))}. Check that api_url and api_mode point at a reachable "
                f"{'Central API' if self.mode == 'central' else 'controller (port 9993 by default)'}.",
                method=method, url=url,
            ) from None
        status = resp.status_code
        if status == 404 and missing_ok:
            return None
        if not 200 <= status < 300:
            raise ZeroTierAPIError(self._status_message(label, method, url, where, resp, network_id),
                                   status=status, method=method, url=url)
        if not want_json:
            return True
        try:
            return resp.json()
        except ValueError:
            raise ZeroTierResponseError(
                f"{label}: {method} {url} ({where}) answered {status} with a body that is not JSON: "
                f"{clip(self._mask(resp.text))}"
            ) from None

    def _status_message(self, label: str, method: str, url: str, where: str, resp: requests.Response,
                        network_id: str) -> str:
        status = resp.status_code
        head = f"{label}: {method} {url} ({where}) answered {status} {resp.reason or ''}".rstrip()
        body = clip(self._mask(resp.text), 200) if resp.text.strip() not in ("", "{}") else ""
        detail = f" — body: {body}" if body else ""
        if status == 401:
            hint = ("the API token was refused; " + TOKEN_HINT
                    + (" — for Central, an API token from the my.zerotier.com account page" if self.mode == "central"
                       else " — for a self-hosted controller, the contents of its authtoken.secret"))
        elif status == 403:
            hint = f"the token is valid but may not manage network {network_id}; check the token's access to it"
        elif status == 404:
            hint = (f"network {network_id} (or the member) does not exist at this endpoint; check network_id, api_url "
                    f"and api_mode" + ("" if self.mode == "central" else
                                       " (a self-hosted network id starts with the controller's node address)"))
        elif status in RETRY_STATUSES:
            hint = f"still failing after {self.policy.retries} retries; the API is down or overloaded, try again later"
        else:
            hint = "unexpected answer"
        return f"{head}{detail}. {hint[0].upper()}{hint[1:]}."


def _reason(e: requests.RequestException) -> str:
    """The innermost cause of a requests failure, without the urllib3 object reprs."""
    cause: Any = e.args[0] if e.args else e
    reason = getattr(cause, "reason", None)
    if reason is not None:
        cause = reason
    text = str(cause)
    kind = type(e).__name__
    return f"{kind}: {text}" if text else kind
