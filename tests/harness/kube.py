"""A real Kubernetes control plane for the tests: etcd, kube-apiserver and kube-controller-manager
(its clusterrole-aggregation and garbage-collector controllers alone), and the OpenID Connect issuer the
API server trusts (dex, ``tests/harness/oidc.py``), on loopback only.

All are built from their Go modules by ``scripts/build-kube.sh`` (cached under ``~/.cache/keystone/``).
The API server runs with the RBAC authorizer alone; the test client authenticates as a cluster admin
with a client certificate (group ``system:masters``); people authenticate only through the issuer: an
ID token's ``email`` claim, prefixed ``oidc:`` (the stack's ``oidcPrefix``), is the user name Keystone's
bindings use.  The harness logs every subject in once (password grant) and keeps the ID token as that
person's bearer token (``ControlPlane.tokens``); kubectl logs in through kubelogin (``kubectl.py``).
Nothing listens beyond 127.0.0.1; everything lives in one temporary folder removed by ``stop``.

Authorization is asked of the API server itself: ``can`` posts a SubjectAccessReview (as the admin,
about a user), ``request(..., token=)`` acts as the person.
"""
from __future__ import annotations

import base64
import json
import os
import pathlib
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from collections.abc import Iterable
from typing import Any
from collections.abc import Callable

from tests.harness import oidc

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = ROOT / "scripts" / "build-kube.sh"
START_TIMEOUT = 120.0
OIDC_PREFIX = "oidc:"
"""The API server's ``--oidc-username-prefix``, the test stack's ``oidcPrefix``."""


class ControlPlaneError(RuntimeError):
    """The control plane could not be built or started; the message carries the log's tail."""


@dataclass(frozen=True)
class KubeBinaries:
    kube_apiserver: pathlib.Path
    kube_controller_manager: pathlib.Path
    kubectl: pathlib.Path
    etcd: pathlib.Path
    dex: pathlib.Path
    kubelogin: pathlib.Path
    provider: pathlib.Path | None = None
    """pulumi-resource-kubernetes, when asked for."""


def build(provider: bool = False, log: Callable[[str], None] = print) -> KubeBinaries:
    """Build (or find cached) the binaries; a cold build takes many minutes, a warm one a second."""
    names = ["kube-apiserver", "etcd", "dex", "kubelogin"] + (["pulumi-kubernetes"] if provider else [])
    start = time.monotonic()
    r = subprocess.run(["bash", str(BUILD), *names], capture_output=True, text=True)
    if r.returncode != 0:
        raise ControlPlaneError(f"scripts/build-kube.sh {' '.join(names)} failed:\n{r.stderr[-4000:]}")
    for line in r.stderr.splitlines():
        log(line)
    dirs = [pathlib.Path(p) for p in r.stdout.split()]
    log(f"[kube] binaries ready in {time.monotonic() - start:.1f}s")
    found = {f.name: f for d in dirs for f in d.iterdir()}
    return KubeBinaries(found["kube-apiserver"], found["kube-controller-manager"], found["kubectl"], found["etcd"],
                        found["dex"], found["kubelogin"], found.get("pulumi-resource-kubernetes"))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _openssl(*args: str, cwd: pathlib.Path) -> None:
    r = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True)
    if r.returncode != 0:
        raise ControlPlaneError(f"openssl {' '.join(args)}: {r.stderr.strip()}")


def _ca(cwd: pathlib.Path, name: str, subject: str) -> None:
    """A self-signed CA, ``name.key`` and ``name.crt``, valid for two days."""
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", f"{name}.key", "-out", f"{name}.crt", "-subj", subject, "-days", "2", cwd=cwd)


def _certificate(cwd: pathlib.Path, name: str, subject: str, ext: str, ca: str = "ca") -> None:
    """``name.key`` and ``name.crt`` signed by ``ca``, valid for two days, with the given extensions."""
    _openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", subject, cwd=cwd)
    (cwd / f"{name}.ext").write_text(ext)
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key", "-CAcreateserial",
             "-days", "2", "-extfile", f"{name}.ext", "-out", f"{name}.crt", cwd=cwd)


SERVER_EXT = ("basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
              "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n")


def make_pki(d: pathlib.Path) -> None:
    """CA, API server serving certificate (127.0.0.1/localhost), admin client certificate, SA key pair;
    and the issuer's own CA (``issuer-ca``, not the cluster's) with its serving certificate (``issuer``)."""
    _ca(d, "ca", "/CN=keystone-test-ca")
    _certificate(d, "apiserver", "/CN=kube-apiserver", SERVER_EXT)
    _certificate(d, "admin", "/O=system:masters/CN=keystone-test-admin",
                 "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
                 "extendedKeyUsage=clientAuth\n")
    _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "sa.key", cwd=d)
    _openssl("pkey", "-in", "sa.key", "-pubout", "-out", "sa.pub", cwd=d)
    _ca(d, "issuer-ca", "/CN=keystone-test-issuer-ca")
    _certificate(d, "issuer", "/CN=keystone-test-issuer", SERVER_EXT, ca="issuer-ca")


@dataclass
class ControlPlane:
    dir: pathlib.Path
    url: str
    issuer: oidc.Issuer
    tokens: dict[str, str] = field(default_factory=dict)
    """User name (``oidc:<subject>``) -> that person's ID token from the issuer (password grant)."""
    startup_seconds: float = 0.0
    procs: list[subprocess.Popen] = field(default_factory=list)
    requests: int = 0
    """API requests this client made (SubjectAccessReviews included)."""
    _contexts: dict[bool, ssl.SSLContext] = field(default_factory=dict, repr=False)

    # -- client ------------------------------------------------------------------------------
    def _context(self, admin: bool) -> ssl.SSLContext:
        if admin not in self._contexts:
            ctx = ssl.create_default_context(cafile=str(self.dir / "ca.crt"))
            if admin:
                ctx.load_cert_chain(str(self.dir / "admin.crt"), str(self.dir / "admin.key"))
            self._contexts[admin] = ctx
        return self._contexts[admin]

    def request(self, method: str, path: str, body: Any = None, token: str | None = None,
                content_type: str = "application/json") -> tuple[int, Any]:
        """One API request, as the admin (certificate) or as a token's user; returns (status, JSON body)."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", content_type)
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        self.requests += 1
        try:
            with urllib.request.urlopen(req, context=self._context(admin=token is None), timeout=30) as resp:
                return resp.status, _body(resp.read())
        except urllib.error.HTTPError as e:
            return e.code, _body(e.read())

    def admin(self, method: str, path: str, body: Any = None, **kw) -> Any:
        """An admin request that must succeed (2xx)."""
        status, out = self.request(method, path, body, **kw)
        if not 200 <= status < 300:
            raise AssertionError(f"{method} {path} -> {status}: {out}")
        return out

    def remove_keystone_objects(self, namespaces: Iterable[str]) -> int:
        """Delete every RBAC object a Keystone stack made (named ``keystone-…``); returns how many.
        Two stacks applying the same object co-own its fields (server-side apply), and the next
        change by either then conflicts (docs/kubernetes.md, "One stack per cluster"): each test
        module's stack starts from a cluster without the previous one's objects."""
        paths = ["/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
                 "/apis/rbac.authorization.k8s.io/v1/clusterroles"]
        paths += [f"/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings" for ns in namespaces]
        removed = 0
        for path in paths:
            for item in self.admin("GET", path)["items"]:
                name = item["metadata"]["name"]
                if name.startswith("keystone-"):
                    self.admin("DELETE", f"{path}/{name}")
                    removed += 1
        return removed

    def can(self, user: str, verb: str, resource: str, group: str = "", namespace: str | None = None,
            subresource: str = "", name: str = "") -> bool:
        """The API server's own answer: may ``user`` (an authenticated user) do ``verb`` on ``resource``?"""
        attrs = {"verb": verb, "resource": resource, "group": group}
        if namespace:
            attrs["namespace"] = namespace
        if subresource:
            attrs["subresource"] = subresource
        if name:
            attrs["name"] = name
        review = self.admin("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", {
            "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
            "spec": {"user": user, "groups": ["system:authenticated"], "resourceAttributes": attrs}})
        return bool(review["status"].get("allowed"))

    def whoami(self, token: str) -> str | None:
        """The user name the API server gives a bearer token (a SelfSubjectReview), None if it refuses it."""
        status, review = self.request("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                                      {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"},
                                      token=token)
        return review["status"]["userInfo"]["username"] if status == 201 else None

    def ensure_namespace(self, name: str) -> None:
        status, out = self.request("POST", "/api/v1/namespaces",
                                   {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
        if status not in (201, 409):
            raise AssertionError(f"creating namespace {name} -> {status}: {out}")

    def kubeconfig(self) -> str:
        """A kubeconfig (JSON is YAML) for the cluster admin, credentials embedded."""
        b64 = lambda f: base64.b64encode((self.dir / f).read_bytes()).decode()  # noqa: E731
        return json.dumps({
            "apiVersion": "v1", "kind": "Config", "current-context": "keystone-test",
            "clusters": [{"name": "keystone-test", "cluster": {
                "server": self.url, "certificate-authority-data": b64("ca.crt")}}],
            "users": [{"name": "keystone-test-admin", "user": {
                "client-certificate-data": b64("admin.crt"), "client-key-data": b64("admin.key")}}],
            "contexts": [{"name": "keystone-test", "context": {
                "cluster": "keystone-test", "user": "keystone-test-admin"}}],
        }, indent=2)

    def write_kubeconfig(self, path: pathlib.Path) -> pathlib.Path:
        path.write_text(self.kubeconfig())
        path.chmod(0o600)
        return path

    def stop(self) -> None:
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        self.procs.clear()
        shutil.rmtree(self.dir, ignore_errors=True)


def _body(raw: bytes) -> Any:
    """JSON when it is (API objects, Status), else the text (``/readyz`` says ``ok``)."""
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw.decode(errors="replace")


def _tail(path: pathlib.Path, n: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return "(no log)"


def _wait(cp: ControlPlane, proc: subprocess.Popen, log: pathlib.Path, ready: Callable[[], bool],
          what: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ControlPlaneError(f"{what} exited with {proc.returncode}:\n{_tail(log)}")
        try:
            if ready():
                return
        except (OSError, urllib.error.URLError, ssl.SSLError):
            pass
        time.sleep(0.25)
    raise ControlPlaneError(f"{what} not ready after {START_TIMEOUT:.0f}s:\n{_tail(log)}")


def start(binaries: KubeBinaries, subjects: Iterable[str], log: Callable[[str], None] = print) -> ControlPlane:
    """Start the issuer (one user per subject: its email), etcd, kube-apiserver and the controller manager
    on loopback; returns once /readyz answers ok, an ID token authenticates (as ``oidc:<subject>``) and
    the built-in ``admin`` role has its aggregated rules.  ``tokens``: one ID token per subject."""
    d = pathlib.Path(tempfile.mkdtemp(prefix="keystone-kube-"))
    d.chmod(0o700)
    t0 = time.monotonic()
    make_pki(d)
    etcd_port, peer_port, api_port, issuer_port = _free_port(), _free_port(), _free_port(), _free_port()
    issuer = oidc.start(binaries.dex, d / "dex", issuer_port, d / "issuer.crt", d / "issuer.key",
                        d / "issuer-ca.crt", subjects)
    cp = ControlPlane(d, f"https://127.0.0.1:{api_port}", issuer)
    cp.procs.append(issuer.proc)
    deadline = time.monotonic() + START_TIMEOUT
    try:
        _wait(cp, issuer.proc, issuer.log, lambda: bool(issuer.discovery()), "the OIDC issuer (dex)", deadline)
        etcd_url, peer_url = f"http://127.0.0.1:{etcd_port}", f"http://127.0.0.1:{peer_port}"
        etcd_log = d / "etcd.log"
        etcd = subprocess.Popen([
            str(binaries.etcd), "--name", "keystone-test", "--data-dir", str(d / "etcd"),
            "--listen-client-urls", etcd_url, "--advertise-client-urls", etcd_url,
            "--listen-peer-urls", peer_url, "--initial-advertise-peer-urls", peer_url,
            "--initial-cluster", f"keystone-test={peer_url}", "--log-level", "warn",
            "--unsafe-no-fsync",  # test data, thrown away: no fsync on a shared disk
        ], stdout=etcd_log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
        cp.procs.append(etcd)
        _wait(cp, etcd, etcd_log, lambda: urllib.request.urlopen(etcd_url + "/health", timeout=2).status == 200,
              "etcd", deadline)
        api_log = d / "kube-apiserver.log"
        api = subprocess.Popen([
            str(binaries.kube_apiserver),
            "--etcd-servers", etcd_url,
            "--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1", "--secure-port", str(api_port),
            "--authorization-mode", "RBAC",
            "--client-ca-file", str(d / "ca.crt"),
            "--tls-cert-file", str(d / "apiserver.crt"), "--tls-private-key-file", str(d / "apiserver.key"),
            # people: the issuer's ID tokens for the client "kubernetes", named by their email claim
            "--oidc-issuer-url", issuer.url, "--oidc-client-id", oidc.CLIENT_ID,
            "--oidc-username-claim", "email", "--oidc-username-prefix", OIDC_PREFIX,
            "--oidc-ca-file", str(issuer.ca),
            "--service-account-issuer", cp.url,
            "--service-account-key-file", str(d / "sa.pub"),
            "--service-account-signing-key-file", str(d / "sa.key"),
            "--service-cluster-ip-range", "10.96.0.0/24",  # a setting only: no Service traffic here
            "--cert-dir", str(d / "certs"),
            "--anonymous-auth=false",
            "--profiling=false",
            "--audit-log-path", str(d / "audit.log"), "--audit-policy-file", str(_audit_policy(d)),
            "--v", "1",
        ], stdout=api_log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
        cp.procs.append(api)
        _wait(cp, api, api_log, lambda: cp.request("GET", "/readyz")[0] == 200, "kube-apiserver", deadline)
        # the API server fetches the issuer's discovery document and keys in the background: a token
        # authenticates only from then on
        cp.tokens = {f"{OIDC_PREFIX}{email}": issuer.id_token(email) for email in issuer.passwords
                     if email != oidc.UNVERIFIED}
        first_user, first_token = next(iter(cp.tokens.items()))
        _wait(cp, api, api_log, lambda: cp.whoami(first_token) == first_user, "kube-apiserver's OIDC authenticator",
              deadline)
        # Two controllers of the controller manager are part of what RBAC objects rely on: the
        # clusterrole-aggregation controller fills the built-in admin/edit/view roles (aggregated, empty
        # without it), and the garbage collector removes the foregroundDeletion finalizer that a
        # deletion with propagationPolicy=Foreground (the pulumi-kubernetes provider's) puts on the
        # object; without it every delete hangs.  No other controller runs (nothing schedules pods).
        cp.write_kubeconfig(d / "admin.kubeconfig")
        kcm_log = d / "kube-controller-manager.log"
        kcm = subprocess.Popen([
            str(binaries.kube_controller_manager), "--kubeconfig", str(d / "admin.kubeconfig"),
            "--controllers", "clusterrole-aggregation-controller,garbage-collector-controller", "--leader-elect=false",
            "--secure-port=0",  # serves nothing: no port at all
            "--v", "1",
        ], stdout=kcm_log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
        cp.procs.append(kcm)
        _wait(cp, kcm, kcm_log, lambda: _has_rules(cp, "admin"), "aggregated RBAC roles (admin)", deadline)
    except BaseException:
        cp.stop()
        raise
    cp.startup_seconds = time.monotonic() - t0
    log(f"[kube] control plane up at {cp.url} in {cp.startup_seconds:.1f}s (dex at {issuer.url}, etcd, "
        f"kube-apiserver with OIDC and RBAC, kube-controller-manager)")
    return cp


def _has_rules(cp: ControlPlane, role: str) -> bool:
    status, body = cp.request("GET", f"/apis/rbac.authorization.k8s.io/v1/clusterroles/{role}")
    return status == 200 and bool(body.get("rules"))


def _audit_policy(d: pathlib.Path) -> pathlib.Path:
    """Audit every request at the Metadata level: the log counts the API requests a run makes."""
    p = d / "audit-policy.yaml"
    p.write_text("apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\n"
                 "rules:\n  - level: Metadata\n")
    return p


def audit_requests(cp: ControlPlane, user: str) -> int:
    """Requests the API server completed for ``user`` so far (from its audit log)."""
    n = 0
    path = cp.dir / "audit.log"
    if not path.exists():
        return 0
    for line in path.read_text().splitlines():
        try:
            ev = json.loads(line)
        except ValueError:
            continue
        if ev.get("user", {}).get("username") == user and ev.get("stage") == "ResponseComplete":
            n += 1
    return n


def ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")
