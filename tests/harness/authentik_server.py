"""An Authentik test server: a stateful double of the part of Authentik's API (``/api/v3``) Keystone
calls, held to Authentik's published contract.

* **The contract.** Every request it receives and every response it sends is validated against
  Authentik's own OpenAPI schema (``schema.yml`` of ``@goauthentik/api`` at the version of
  ``authentik-client`` pinned in ``requirements.txt``; ``scripts/authentik-schema.sh`` installs it)
  with ``openapi-core``.  A request or response outside the schema is recorded in ``violations``
  and answered 500; the ``authentik_server`` fixture fails the test that caused it.
* **The behaviour** follows Authentik's source; each fact is listed in ``docs/authentik.md`` with the
  file it was read in: a bad or missing token is 403 ``{"detail": …}``; an unknown object is 404
  ``{"detail": "No <Model> matches the given query."}``; lists are paginated (``page``,
  ``page_size`` ≤ 100, default 20) with ``pagination.next``/``previous`` 0 when there is none and 404
  for a page past the end; group and policy names are unique (400 with the field's message);
  ``add_user``/``remove_user`` take ``{"pk": n}``, answer 204 and are idempotent, 404 for an
  unknown user; a binding sets exactly one of policy, group, user (400 otherwise).
* **Test knobs** (not Authentik's behaviour): ``fail_next(n, status)`` (the next n requests answer
  ``status``, 5xx or 429), ``requests`` (method, path, status), ``add_user``/``add_application``/
  ``set_members`` (what an admin does in Authentik's UI), ``stop()``.

It listens on 127.0.0.1 (a random port) over plain HTTP.
"""
from __future__ import annotations

import json
import pathlib
import re
import subprocess
import threading
import uuid
from dataclasses import dataclass, field

from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_schema_validator import OAS30Validator
from werkzeug.datastructures import Headers, ImmutableMultiDict

from tests.harness.http_double import DoubleHandler

ROOT = pathlib.Path(__file__).resolve().parents[2]
PREFIX = "/api/v3"
NOW = "2026-01-01T00:00:00Z"
MAX_PAGE = 100
DEFAULT_PAGE = 20

_SPECS: dict[str, OpenAPI] = {}


def schema_path() -> pathlib.Path:
    """Authentik's schema, installed by the set-up (``scripts/authentik-schema.sh`` prints its path)."""
    out = subprocess.run(["bash", str(ROOT / "scripts/authentik-schema.sh")], capture_output=True, text=True,
                         check=False)
    if out.returncode != 0:
        raise RuntimeError(f"Authentik's API schema is not installed: {out.stderr.strip()}")
    return pathlib.Path(out.stdout.strip().splitlines()[-1])


def contract() -> OpenAPI:
    """The schema as openapi-core's validator (read from a JSON copy kept beside it: parsing the 60,000
    lines of YAML takes seconds, the JSON a fraction of one)."""
    path = schema_path()
    if str(path) not in _SPECS:
        copy = path.with_suffix(".json")
        if not copy.exists() or copy.stat().st_mtime < path.stat().st_mtime:
            with open(path, encoding="utf-8") as fh:
                spec = yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
            tmp = copy.with_suffix(".json.tmp")
            tmp.write_text(json.dumps(spec))
            tmp.replace(copy)
        spec = json.loads(copy.read_text())
        nullable_all_of(spec)
        # The schema is Authentik's own: checking the schema itself (minutes for 600 paths) is not our test.
        _SPECS[str(path)] = OpenAPI.from_dict(spec, config=Config(spec_validator_cls=None))
    return _SPECS[str(path)]


def nullable_all_of(node: Any, where: str = "") -> list[str]:
    """Authentik's schema marks a nullable reference as ``{allOf: [$ref], nullable: true}`` (no ``type``),
    and its server answers null there (an application without a provider).  OpenAPI 3.0.3 applies
    ``nullable`` only beside a ``type``, so a strict validator refuses that null: read each such node as
    "null, or the reference", as the schema's authors and the generated client do.  Returns the nodes
    rewritten (docs/authentik.md lists this as the one place where the contract is read, not taken)."""
    found: list[str] = []
    if isinstance(node, dict):
        if node.get("nullable") is True and "allOf" in node and "type" not in node:
            node["anyOf"] = [{"allOf": node.pop("allOf")}, {"enum": [None]}]
            found.append(where)
        for k, v in node.items():
            found += nullable_all_of(v, f"{where}/{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            found += nullable_all_of(v, f"{where}/{i}")
    return found


def generic_error(api: OpenAPI) -> dict[str, Any]:
    """The schema's ``GenericError`` (the body of Authentik's 403 and 404 answers)."""
    return dict((api.spec / "components" / "schemas" / "GenericError").read_value())


# -- openapi-core's view of one exchange -------------------------------------------------------------
@dataclass
class _Request:
    host_url: str
    path: str
    method: str
    body: bytes | None
    content_type: str
    parameters: RequestParameters


@dataclass
class _Response:
    status_code: int
    data: bytes
    content_type: str
    headers: Headers


class NotFound(Exception):
    def __init__(self, model: str):
        super().__init__(f"No {model} matches the given query.")


class Invalid(Exception):
    def __init__(self, errors: dict[str, Any]):
        super().__init__(json.dumps(errors))
        self.errors = errors


@dataclass
class AuthentikServer:
    token: str = "ak-test-token"
    users: dict[int, dict[str, Any]] = field(default_factory=dict)
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    policies: dict[str, dict[str, Any]] = field(default_factory=dict)
    bindings: dict[str, dict[str, Any]] = field(default_factory=dict)
    applications: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str, int]] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    _fail: list[int] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> AuthentikServer:
        api = contract()
        outer = self

        class Handler(DoubleHandler):
            def _handle(self) -> None:
                status, payload = outer._exchange(api, self.command, self.path, dict(self.headers.items()), self.body())
                self.answer(status, b"" if payload is None else json.dumps(payload).encode(),
                            None if payload is None else "application/json")

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # -- what an admin does in Authentik ---------------------------------------------------------
    def add_user(self, username: str, name: str = "") -> int:
        with self._lock:
            pk = max(self.users, default=0) + 1
            self.users[pk] = {"pk": pk, "username": username, "name": name or username, "is_active": True,
                              "email": f"{username}@example.org", "uuid": str(uuid.uuid4())}
            return pk

    def add_group(self, name: str, members: list[int] = (), attributes: dict[str, Any] | None = None) -> str:
        with self._lock:
            pk = str(uuid.uuid4())
            self.groups[pk] = {"pk": pk, "num_pk": len(self.groups) + 1, "name": name, "users": list(members),
                               "attributes": attributes or {}, "is_superuser": False}
            return pk

    def add_application(self, slug: str) -> str:
        with self._lock:
            pk = str(uuid.uuid4())
            self.applications[slug] = {"pk": pk, "slug": slug, "name": slug}
            return pk

    def group_named(self, name: str) -> dict[str, Any]:
        (g,) = [g for g in self.groups.values() if g["name"] == name]
        return g

    def members(self, name: str) -> set[str]:
        return {self.users[u]["username"] for u in self.group_named(name)["users"]}

    def set_members(self, name: str, usernames: set[str]) -> None:
        by_name = {u["username"]: pk for pk, u in self.users.items()}
        with self._lock:
            self.group_named(name)["users"] = sorted(by_name[u] for u in usernames)

    def fail_next(self, n: int, status: int = 503) -> None:
        with self._lock:
            self._fail += [status] * n

    # -- one exchange: validate, route, validate ---------------------------------------------------
    def _exchange(self, api: OpenAPI, method: str, raw_path: str, headers: dict[str, str], body: bytes
                  ) -> tuple[int, Any]:
        parts = urlsplit(raw_path)
        query = parse_qs(parts.query, keep_blank_values=True)
        request = _Request(
            host_url=self.url, path=parts.path, method=method.lower(), body=body or None,
            content_type=headers.get("Content-Type", "application/json").split(";")[0].lower(),
            parameters=RequestParameters(query=ImmutableMultiDict([(k, v) for k, vs in query.items() for v in vs]),
                                         header=Headers(headers), cookie=ImmutableMultiDict()))
        route = parts.path[len(PREFIX):] if parts.path.startswith(PREFIX) else None
        try:
            api.validate_request(request)
        except Exception as e:  # noqa: BLE001 - any finding is a contract violation of the client
            if route is not None and self._authorized(headers):
                self.violations.append(f"request {method} {raw_path}: {_finding(e)}")
                return self._record(method, raw_path, 500, {"detail": "request outside Authentik's schema"})
        with self._lock:
            status = self._fail.pop(0) if self._fail else None
        if status is not None:
            payload: Any = {"detail": "Request was throttled."} if status == 429 else None
            return self._record(method, raw_path, status, payload)
        if not self._authorized(headers):
            status, payload = 403, {"detail": "Token invalid/expired"}
        elif route is None:
            status, payload = 404, {"detail": "Not found."}
        else:
            try:
                with self._lock:
                    status, payload = self._route(method, route, {k: v[-1] for k, v in query.items()},
                                                  json.loads(body) if body else None)
            except NotFound as e:
                status, payload = 404, {"detail": str(e)}
            except Invalid as e:
                status, payload = 400, e.errors
        data = b"" if payload is None else json.dumps(payload).encode()
        try:
            try:
                api.validate_response(request, _Response(status, data, "application/json", Headers()))
            except ResponseNotFound:
                if status != 404:
                    raise
                # Authentik answers 404 for an unknown object on every detail route, but most operations
                # do not declare it: its body is then held to the schema's GenericError.
                OAS30Validator(generic_error(api), format_checker=OAS30Validator.FORMAT_CHECKER).validate(payload)
        except Exception as e:  # noqa: BLE001 - the double must answer inside the contract
            self.violations.append(f"response to {method} {raw_path} ({status}): {_finding(e)}")
            return self._record(method, raw_path, 500, {"detail": "response outside Authentik's schema"})
        return self._record(method, raw_path, status, payload)

    def _record(self, method: str, path: str, status: int, payload: Any) -> tuple[int, Any]:
        self.requests.append((method, path, status))
        return status, payload

    def _authorized(self, headers: dict[str, str]) -> bool:
        auth = {k.lower(): v for k, v in headers.items()}.get("authorization", "")
        return auth == f"Bearer {self.token}"

    def _route(self, method: str, route: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
        m = re.fullmatch(r"/(core/users|core/groups|policies/expression|policies/bindings|core/applications)/"
                         r"(?:([^/]+)/(?:(add_user|remove_user)/)?)?", route)
        if not m:
            raise NotFound("route")
        kind, key, action = m.groups()
        if kind == "core/users":
            if key is None and method == "GET":
                found = [self._user(u) for u in sorted(self.users.values(), key=lambda u: u["username"])
                         if query.get("username") in (None, u["username"])]
                return 200, self._page(found, query)
            if key is not None and method == "GET":
                user = self.users.get(int(key))
                if user is None:
                    raise NotFound("User")
                return 200, self._user(user)
        if kind == "core/groups":
            return self._groups(method, key, action, query, body)
        if kind == "core/applications" and key is not None and method == "GET":
            app = self.applications.get(key)
            if app is None:
                raise NotFound("Application")
            return 200, self._application(app)
        if kind == "policies/expression":
            return self._policies(method, key, query, body)
        if kind == "policies/bindings":
            return self._bindings(method, key, query, body)
        raise NotFound("route")

    def _groups(self, method: str, key: str | None, action: str | None, query: dict[str, str], body: Any
                ) -> tuple[int, Any]:
        if key is None:
            if method == "GET":
                found = [self._group(g, query) for g in sorted(self.groups.values(), key=lambda g: g["name"])
                         if query.get("name") in (None, g["name"])]
                return 200, self._page(found, query)
            if method == "POST":
                name = body.get("name")
                if any(g["name"] == name for g in self.groups.values()):
                    raise Invalid({"name": ["Group with this name already exists."]})
                pk = str(uuid.uuid4())
                self.groups[pk] = {"pk": pk, "num_pk": len(self.groups) + 1, "name": name,
                                   "users": list(body.get("users") or []), "attributes": body.get("attributes") or {},
                                   "is_superuser": bool(body.get("is_superuser", False))}
                return 201, self._group(self.groups[pk], {})
        group = self.groups.get(key or "")
        if group is None:
            raise NotFound("Group")
        if action is not None:
            pk = body.get("pk")
            if pk not in self.users:
                raise NotFound("User")
            users = set(group["users"])
            users = users | {pk} if action == "add_user" else users - {pk}
            group["users"] = sorted(users)
            return 204, None
        if method == "GET":
            return 200, self._group(group, query)
        if method == "DELETE":
            del self.groups[group["pk"]]
            return 204, None
        raise NotFound("route")

    def _policies(self, method: str, key: str | None, query: dict[str, str], body: Any) -> tuple[int, Any]:
        if key is None:
            if method == "GET":
                found = [self._policy(p) for p in sorted(self.policies.values(), key=lambda p: p["name"])
                         if query.get("name") in (None, p["name"])]
                return 200, self._page(found, query)
            if method == "POST":
                if any(p["name"] == body["name"] for p in self.policies.values()):
                    raise Invalid({"name": ["Policy with this name already exists."]})
                pk = str(uuid.uuid4())
                self.policies[pk] = {"pk": pk, "name": body["name"], "expression": body["expression"],
                                     "execution_logging": bool(body.get("execution_logging", False))}
                return 201, self._policy(self.policies[pk])
        policy = self.policies.get(key or "")
        if policy is None:
            raise NotFound("ExpressionPolicy")
        if method == "GET":
            return 200, self._policy(policy)
        if method == "DELETE":
            del self.policies[policy["pk"]]
            return 204, None
        raise NotFound("route")

    def _bindings(self, method: str, key: str | None, query: dict[str, str], body: Any) -> tuple[int, Any]:
        if key is None:
            if method == "GET":
                found = [self._binding(b) for b in sorted(self.bindings.values(), key=lambda b: (b["target"], b["order"]))
                         if query.get("target") in (None, b["target"]) and query.get("policy") in (None, b["policy"])]
                return 200, self._page(found, query)
            if method == "POST":
                chosen = [k for k in ("policy", "group", "user") if body.get(k)]
                if len(chosen) != 1:
                    raise Invalid({"non_field_errors": ["Only one of 'policy', 'group', 'user' can be set." if chosen
                                                        else "One of 'policy', 'group', 'user' must be set."]})
                if body.get("policy") and body["policy"] not in self.policies:
                    raise Invalid({"policy": [f'Invalid pk "{body["policy"]}" - object does not exist.']})
                if body["target"] not in {a["pk"] for a in self.applications.values()}:
                    raise Invalid({"target": [f'Invalid pk "{body["target"]}" - object does not exist.']})
                pk = str(uuid.uuid4())
                self.bindings[pk] = {"pk": pk, "policy": body.get("policy"), "group": body.get("group"),
                                     "user": body.get("user"), "target": body["target"],
                                     "negate": bool(body.get("negate", False)), "enabled": bool(body.get("enabled", True)),
                                     "order": body["order"], "timeout": body.get("timeout", 30)}
                return 201, self._binding(self.bindings[pk])
        binding = self.bindings.get(key or "")
        if binding is None:
            raise NotFound("PolicyBinding")
        if method == "GET":
            return 200, self._binding(binding)
        if method == "DELETE":
            del self.bindings[binding["pk"]]
            return 204, None
        raise NotFound("route")

    # -- the serializers' shapes -----------------------------------------------------------------
    @staticmethod
    def _page(items: list[Any], query: dict[str, str]) -> dict[str, Any]:
        size = min(int(query.get("page_size") or DEFAULT_PAGE), MAX_PAGE)
        page = int(query.get("page") or 1)
        pages = max(1, -(-len(items) // size))
        if page > pages:
            raise NotFound("page")  # DRF: "Invalid page."
        chunk = items[(page - 1) * size:page * size]
        start = (page - 1) * size + 1 if chunk else 0
        return {"pagination": {"next": page + 1 if page < pages else 0, "previous": page - 1 if page > 1 else 0,
                               "count": len(items), "current": page, "total_pages": pages,
                               "start_index": start, "end_index": start + len(chunk) - 1 if chunk else 0},
                "results": chunk, "autocomplete": {}}

    @staticmethod
    def _user(u: dict[str, Any]) -> dict[str, Any]:
        return {"pk": u["pk"], "username": u["username"], "name": u["name"], "is_active": u["is_active"],
                "last_login": None, "date_joined": NOW, "is_superuser": False, "groups": [], "groups_obj": None,
                "roles": [], "roles_obj": None, "email": u["email"], "avatar": "", "attributes": {},
                "uid": u["uuid"].replace("-", ""), "path": "users", "type": "internal", "uuid": u["uuid"],
                "password_change_date": NOW, "last_updated": NOW}

    def _group(self, g: dict[str, Any], query: dict[str, str]) -> dict[str, Any]:
        """``users_obj`` unless ``include_users=false`` (the serializer's default is to include them)."""
        include = query.get("include_users", "true").lower() == "true"
        users_obj = [{"pk": u, "username": self.users[u]["username"], "name": self.users[u]["name"],
                      "is_active": self.users[u]["is_active"], "last_login": None, "email": self.users[u]["email"],
                      "attributes": {}, "uid": self.users[u]["uuid"].replace("-", "")}
                     for u in g["users"] if u in self.users] if include else None
        return {"pk": g["pk"], "num_pk": g["num_pk"], "name": g["name"], "is_superuser": g["is_superuser"],
                "parents": [], "parents_obj": None, "children": [], "children_obj": None, "users": list(g["users"]),
                "users_obj": users_obj, "attributes": g["attributes"], "roles": [], "roles_obj": [],
                "inherited_roles_obj": None}

    @staticmethod
    def _application(a: dict[str, Any]) -> dict[str, Any]:
        return {"pk": a["pk"], "pbm_uuid": a["pk"], "name": a["name"], "slug": a["slug"], "provider": None,
                "provider_obj": None, "backchannel_providers": [], "backchannel_providers_obj": [],
                "launch_url": None, "meta_icon_url": None, "meta_icon_themed_urls": None}

    def _policy(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"pk": p["pk"], "name": p["name"], "execution_logging": p["execution_logging"],
                "component": "ak-policy-expression-form", "verbose_name": "Expression Policy",
                "verbose_name_plural": "Expression Policies", "meta_model_name": "authentik_policies_expression."
                "expressionpolicy", "bound_to": sum(1 for b in self.bindings.values() if b.get("policy") == p["pk"]),
                "expression": p["expression"]}

    def _binding(self, b: dict[str, Any]) -> dict[str, Any]:
        p = self.policies.get(b.get("policy") or "")
        return {"pk": b["pk"], "policy": b.get("policy"), "group": b.get("group"), "user": b.get("user"),
                "policy_obj": self._policy(p) if p else None, "group_obj": None, "user_obj": None,
                "target": b["target"], "negate": b["negate"], "enabled": b["enabled"], "order": b["order"],
                "timeout": b["timeout"], "failure_result": False, "expires": None, "expiring": False}


def _finding(e: Exception) -> str:
    causes = [str(e)]
    for attr in ("schema_errors", "errors"):
        for inner in getattr(e, attr, None) or []:
            causes.append(str(getattr(inner, "message", inner))[:300])
    inner = e.__cause__
    while inner is not None and len(causes) < 6:
        causes.append(str(inner)[:300])
        for sub in getattr(inner, "schema_errors", None) or []:
            causes.append(str(getattr(sub, "message", sub))[:300])
        inner = inner.__cause__
    return " / ".join(causes)


