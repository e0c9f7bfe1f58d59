"""The only module of Keystone that talks to Authentik: its API (``/api/v3``) through ``authentik-client``,
the client generated from Authentik's OpenAPI schema.

* The token is read once per provider process from stack config ``keystone:authentikToken`` (or env
  ``KEYSTONE_AUTHENTIK_TOKEN`` for the program's own look-ups) and sent as ``Authorization: Bearer``;
  it is never an input, an output or part of a message (masked should an answer echo it).
* One ``ApiClient`` per ``(url, insecure)``, created lazily and cached at module level: a provider
  instance is pickled into state and must hold no connections.
* urllib3 retries connect errors, read timeouts and 429/5xx answers (the calls Keystone makes are
  idempotent: ``add_user``/``remove_user`` of a member already in or out answer 204 again).
* Every error names the URL and the call (``GET /core/groups/ (name=keystone)``) and says what to check.
* Answers are read as JSON and checked by ``providers/authentik/model.py``, so an unexpected shape is one
  clear error; the typed models of the client are not used to parse answers (a server of another
  version would make them fail on fields Keystone does not read).
"""
from __future__ import annotations

import json
import os
import threading
from typing import Any

import authentik_client
import urllib3
from authentik_client.exceptions import ApiException
from urllib3.util.retry import Retry

from providers.authentik.model import (
    MANAGED_BY,
    AuthentikError,
    Binding,
    Group,
    field,
    parse_binding,
    parse_group,
    results,
)

TOKEN_CONFIG_KEY = "keystone:authentikToken"
TOKEN_ENV = "KEYSTONE_AUTHENTIK_TOKEN"
MASK = "********"
PAGE_SIZE = 100  # Authentik's largest page
TIMEOUT = (5.0, 20.0)
HINTS = {
    401: "check the token (stack config keystone:authentikToken): Authentik refused it",
    403: "check the token (stack config keystone:authentikToken) and that its user may do this "
         "(Authentik answers 403 for a wrong or expired token too)",
    404: "the object is gone or the URL is not Authentik's",
    429: "Authentik is rate-limiting this client; retry later",
}

_TOKEN: dict[str, str] = {}
_CLIENTS: dict[tuple[str, bool], authentik_client.ApiClient] = {}
_LOCK = threading.Lock()


def set_token(token: str | None) -> None:
    """The token for this process (the provider's ``configure``; the program's look-ups)."""
    with _LOCK:
        _TOKEN.clear()
        if token:
            _TOKEN["token"] = str(token)
        _CLIENTS.clear()  # a client holds its token: the next call makes one with the new token


def _token() -> str:
    return _TOKEN.get("token") or os.environ.get(TOKEN_ENV, "")


def _mask(text: str) -> str:
    token = _token()
    return text.replace(token, MASK) if token else text


def _api_client(url: str, insecure: bool) -> authentik_client.ApiClient:
    with _LOCK:
        c = _CLIENTS.get((url, insecure))
        if c is None:
            conf = authentik_client.Configuration(host=f"{url}/api/v3", access_token=_token(), verify_ssl=not insecure)
            conf.retries = Retry(total=3, connect=3, read=3, status=3, other=0, redirect=0, backoff_factor=0.3,
                                 allowed_methods=frozenset({"GET", "POST", "PATCH", "DELETE"}),
                                 status_forcelist=frozenset({429, 500, 502, 503, 504}), raise_on_status=False,
                                 respect_retry_after_header=False)
            c = authentik_client.ApiClient(conf)
            c.user_agent = "keystone-authentik/1"
            _CLIENTS[(url, insecure)] = c
        return c


class AuthentikClient:
    """The calls Keystone makes, each returning checked values (``providers/authentik/model.py``)."""

    def __init__(self, url: str, insecure: bool = False):
        self.url = url.rstrip("/")
        self.insecure = insecure
        self.core = authentik_client.CoreApi(_api_client(self.url, insecure))
        self.policies = authentik_client.PoliciesApi(_api_client(self.url, insecure))

    # -- one call ---------------------------------------------------------------------------
    def _call(self, what: str, method: Any, *args: Any, missing_ok: bool = False, **kw: Any) -> Any:
        """Run one raw call of the generated client and return its JSON (None for 204, or for 404 when
        ``missing_ok``)."""
        where = f"Authentik at {self.url}: {what}"
        try:
            resp = method(*args, _request_timeout=TIMEOUT, **kw)
            data = resp.data
        except ApiException as e:
            if e.status == 404 and missing_ok:
                return None
            raise AuthentikError(f"{where} failed: HTTP {e.status} {_detail(e.body)}"
                                 f"{'; ' + HINTS[e.status] if e.status in HINTS else ''}") from None
        except (urllib3.exceptions.HTTPError, OSError) as e:
            raise AuthentikError(f"{where} failed: no answer ({_mask(type(e).__name__)}: {_mask(str(e))[:200]}); "
                                 "check authentik.url and that the server is up") from None
        status = resp.status
        if status == 404 and missing_ok:
            return None
        if status >= 400:
            raise AuthentikError(f"{where} failed: HTTP {status} {_detail(data)}"
                                 f"{'; ' + HINTS[status] if status in HINTS else ''}")
        if status == 204 or not data:
            return None
        try:
            return json.loads(data)
        except ValueError:
            raise AuthentikError(f"{where}: the answer is not JSON: {_mask(data[:80].decode('utf-8', 'replace'))!r}"
                                 ) from None

    def _all(self, what: str, method: Any, **filters: Any) -> list[Any]:
        """Every result of a paginated list (Authentik's ``pagination.next`` is 0 on the last page)."""
        items: list[Any] = []
        page = 1
        while page:
            answer = self._call(f"{what} page {page}", method, page=page, page_size=PAGE_SIZE, **filters)
            chunk, page = results(answer, f"Authentik at {self.url}: {what}")
            items += chunk
        return items

    # -- users --------------------------------------------------------------------------------
    def user_pk(self, username: str) -> int | None:
        what = f"GET /core/users/ (username={username})"
        found = [u for u in self._all(what, self.core.core_users_list_without_preload_content, username=username)
                 if isinstance(u, dict) and u.get("username") == username]
        return field(found[0], "pk", int, f"Authentik at {self.url}: {what}") if found else None

    def group_named(self, name: str) -> Group | None:
        what = f"GET /core/groups/ (name={name})"
        found = [g for g in self._all(what, self.core.core_groups_list_without_preload_content, name=name,
                                      include_users=True)
                 if isinstance(g, dict) and g.get("name") == name]
        return parse_group(found[0], f"Authentik at {self.url}: {what}") if found else None

    def group(self, pk: str) -> Group | None:
        what = f"GET /core/groups/{pk}/"
        answer = self._call(what, self.core.core_groups_retrieve_without_preload_content, pk, include_users=True,
                            missing_ok=True)
        return None if answer is None else parse_group(answer, f"Authentik at {self.url}: {what}")

    def create_group(self, name: str) -> Group:
        what = "POST /core/groups/"
        body = authentik_client.GroupRequest(name=name, attributes={"managed-by": MANAGED_BY})
        return parse_group(self._call(what, self.core.core_groups_create_without_preload_content, body),
                           f"Authentik at {self.url}: {what}")

    def delete_group(self, pk: str) -> None:
        self._call(f"DELETE /core/groups/{pk}/", self.core.core_groups_destroy_without_preload_content, pk,
                   missing_ok=True)

    def add_user(self, group_pk: str, user_pk: int) -> None:
        self._call(f"POST /core/groups/{group_pk}/add_user/ (pk={user_pk})",
                   self.core.core_groups_add_user_create_without_preload_content, group_pk,
                   authentik_client.UserAccountRequest(pk=user_pk))

    def remove_user(self, group_pk: str, user_pk: int) -> None:
        self._call(f"POST /core/groups/{group_pk}/remove_user/ (pk={user_pk})",
                   self.core.core_groups_remove_user_create_without_preload_content, group_pk,
                   authentik_client.UserAccountRequest(pk=user_pk))

    # -- the edge gate ------------------------------------------------------------------------
    def application_pk(self, slug: str) -> str | None:
        what = f"GET /core/applications/{slug}/"
        answer = self._call(what, self.core.core_applications_retrieve_without_preload_content, slug, missing_ok=True)
        return None if answer is None else field(answer, "pk", str, f"Authentik at {self.url}: {what}")

    def expression_policy(self, name: str) -> tuple[str, str] | None:
        """The expression policy named ``name``: its pk and expression."""
        what = f"GET /policies/expression/ (name={name})"
        found = [p for p in self._all(what, self.policies.policies_expression_list_without_preload_content, name=name)
                 if isinstance(p, dict) and p.get("name") == name]
        if not found:
            return None
        where = f"Authentik at {self.url}: {what}"
        return field(found[0], "pk", str, where), field(found[0], "expression", str, where)

    def create_expression_policy(self, name: str, expression: str) -> str:
        what = "POST /policies/expression/"
        body = authentik_client.ExpressionPolicyRequest(name=name, expression=expression)
        answer = self._call(what, self.policies.policies_expression_create_without_preload_content, body)
        return field(answer, "pk", str, f"Authentik at {self.url}: {what}")

    def delete_expression_policy(self, pk: str) -> None:
        self._call(f"DELETE /policies/expression/{pk}/",
                   self.policies.policies_expression_destroy_without_preload_content, pk, missing_ok=True)

    def bindings(self, target: str, policy: str) -> list[Binding]:
        what = f"GET /policies/bindings/ (target={target}, policy={policy})"
        where = f"Authentik at {self.url}: {what}"
        return [parse_binding(b, where) for b in
                self._all(what, self.policies.policies_bindings_list_without_preload_content, target=target,
                          policy=policy)]

    def create_binding(self, policy: str, target: str, order: int) -> Binding:
        what = "POST /policies/bindings/"
        body = authentik_client.PolicyBindingRequest(policy=policy, target=target, order=order, enabled=True,
                                                     negate=False, timeout=30)
        return parse_binding(self._call(what, self.policies.policies_bindings_create_without_preload_content, body),
                             f"Authentik at {self.url}: {what}")

    def delete_binding(self, pk: str) -> None:
        self._call(f"DELETE /policies/bindings/{pk}/", self.policies.policies_bindings_destroy_without_preload_content,
                   pk, missing_ok=True)


def _detail(body: Any) -> str:
    """Authentik's error body, short and masked: ``{"detail": …}`` or a serializer's field errors."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    text = str(body or "").strip()
    try:
        parsed = json.loads(text)
        text = parsed["detail"] if isinstance(parsed, dict) and isinstance(parsed.get("detail"), str) \
            else json.dumps(parsed, sort_keys=True)
    except (ValueError, TypeError):
        pass
    return _mask(text)[:300] if text else "(no body)"
