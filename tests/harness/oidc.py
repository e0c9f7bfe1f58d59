"""A real OpenID Connect issuer for the kube tier: dex, built from its Go module by ``scripts/build-kube.sh``.

The test API server trusts it (``--oidc-issuer-url``, ``--oidc-client-id``, ``--oidc-username-claim=email``)
and the people's kubeconfigs log in against it through the real kubelogin.  What it is configured with
(``config`` below; dex reads JSON as YAML):

* HTTPS only, on 127.0.0.1 (a port picked free), with a certificate from its own test CA — not the
  cluster's: whoever talks to it must be given that CA;
* storage in memory (nothing on disk but its configuration);
* one public client, ``kubernetes`` (no secret, like the client the kubeconfig names), and one more,
  ``other-app``, whose ID tokens carry another audience (the API server must refuse them);
* its password database with one user per subject: ``email`` = the subject (the roster's
  ``kubernetes`` field, or the user name), a random password, the email verified; plus one user whose
  email is not verified (the API server must refuse that token too);
* the password grant (Resource Owner Password Credentials) through that database
  (``oauth2.passwordConnector: local``): the non-interactive login kubelogin's ``--grant-type=password``
  uses, since no browser takes part in a test.

Unknown configuration keys are refused (``DEX_CONFIG_DISALLOW_UNKNOWN_FIELDS``) and no ``$VAR`` of the
configuration is expanded from the environment (``DEX_EXPAND_ENV=false``).
"""
from __future__ import annotations

import base64
import ctypes
import ctypes.util
import json
import os
import pathlib
import secrets
import ssl
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from collections.abc import Iterable

CLIENT_ID = "kubernetes"
OTHER_CLIENT_ID = "other-app"
UNVERIFIED = "unverified@example.org"
"""A user of the issuer whose email is not verified."""
PATH = "/dex"


def bcrypt_hash(password: str) -> str:
    """The bcrypt hash dex's password database wants, from the C library's ``crypt`` (libxcrypt): cost 10,
    the lowest dex accepts from its API, a random salt from the OS."""
    lib = ctypes.CDLL(ctypes.util.find_library("crypt") or "libcrypt.so.1")
    lib.crypt_gensalt.restype = ctypes.c_char_p
    lib.crypt_gensalt.argtypes = [ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p, ctypes.c_int]
    lib.crypt.restype = ctypes.c_char_p
    lib.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    setting = lib.crypt_gensalt(b"$2b$", 10, None, 0)
    out = lib.crypt(password.encode(), setting) if setting else None
    if not out or not out.startswith(b"$2b$10$"):
        raise RuntimeError(f"libcrypt made no bcrypt hash (got {out!r}); dex's password database needs one")
    return out.decode()


def config(url: str, port: int, cert: pathlib.Path, key: pathlib.Path, passwords: dict[str, str]) -> dict:
    """dex's configuration (``passwords``: email -> password)."""
    users = [{"email": email, "username": email, "userID": f"user-{n}", "hash": bcrypt_hash(pw),
              "emailVerified": email != UNVERIFIED}
             for n, (email, pw) in enumerate(sorted(passwords.items()))]
    return {
        "issuer": url,
        "storage": {"type": "memory"},
        "web": {"https": f"127.0.0.1:{port}", "tlsCert": str(cert), "tlsKey": str(key)},
        "logger": {"level": "info", "format": "text"},
        "oauth2": {"passwordConnector": "local", "skipApprovalScreen": True},
        "staticClients": [{"id": CLIENT_ID, "name": "Kubernetes", "public": True},
                          {"id": OTHER_CLIENT_ID, "name": "Another application", "public": True}],
        "enablePasswordDB": True,
        "staticPasswords": users,
    }


@dataclass
class Issuer:
    url: str
    ca: pathlib.Path
    """The CA file its certificate chains to (give it to whoever talks to the issuer)."""
    passwords: dict[str, str]
    """email -> password, one per subject (and ``UNVERIFIED``)."""
    proc: subprocess.Popen
    log: pathlib.Path
    """dex's output (``start`` writes it beside the configuration)."""
    _context: ssl.SSLContext | None = field(default=None, repr=False)

    def context(self) -> ssl.SSLContext:
        if self._context is None:
            self._context = ssl.create_default_context(cafile=str(self.ca))
        return self._context

    def discovery(self) -> dict:
        with urllib.request.urlopen(self.url + "/.well-known/openid-configuration", context=self.context(),
                                    timeout=5) as resp:
            return json.loads(resp.read())

    def password_grant(self, email: str, password: str | None = None, client_id: str = CLIENT_ID,
                       scope: str = "openid email") -> tuple[int, dict]:
        """The token endpoint's answer to a password grant, as a public client: (status, JSON body)."""
        form = urllib.parse.urlencode({
            "grant_type": "password", "username": email, "scope": scope, "client_id": client_id,
            "password": self.passwords[email] if password is None else password}).encode()
        req = urllib.request.Request(self.url + "/token", data=form, method="POST")
        req.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with urllib.request.urlopen(req, context=self.context(), timeout=30) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    def id_token(self, email: str, **kw) -> str:
        """A fresh ID token for ``email`` (password grant); fails loudly when the issuer refuses."""
        status, body = self.password_grant(email, **kw)
        if status != 200 or "id_token" not in body:
            raise AssertionError(f"the issuer refused the password grant for {email}: {status} {body}")
        return body["id_token"]


def claims(token: str) -> dict:
    """A JWT's payload, unverified (what the issuer put in it; the API server does the verifying)."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def start(binary: pathlib.Path, d: pathlib.Path, port: int, cert: pathlib.Path, key: pathlib.Path,
          ca: pathlib.Path, subjects: Iterable[str]) -> Issuer:
    """Start dex in folder ``d`` (its configuration and log); returns at once — ``Issuer.discovery``
    answers once it serves."""
    d.mkdir(mode=0o700, exist_ok=True)
    passwords = {s: secrets.token_urlsafe(18) for s in [*subjects, UNVERIFIED]}
    url = f"https://127.0.0.1:{port}{PATH}"
    conf = d / "config.yaml"
    conf.write_text(json.dumps(config(url, port, cert, key, passwords), indent=2))
    conf.chmod(0o600)
    log = d / "dex.log"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(d),
           "DEX_CONFIG_DISALLOW_UNKNOWN_FIELDS": "true", "DEX_EXPAND_ENV": "false"}
    proc = subprocess.Popen([str(binary), "serve", str(conf)], stdout=log.open("w"), stderr=subprocess.STDOUT,
                            env=env, start_new_session=True)
    return Issuer(url, ca, passwords, proc, log)
