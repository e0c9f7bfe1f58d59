"""Hostile and mistaken stack settings of the ``keystone:workstation`` and ``keystone:kubernetes``
blocks: values an admin could type that would hurt a host if they were applied (a system file as a
map, a path in a home that belongs to sshd, a template that reaches Python's internals, a
credential in a clone URL, an expired CA …).  Each edits the valid stack of
``tests/unit/settings/test_hostile_settings.py`` and names the key, a fragment of the issue, and
where it must point (line and column: ``col="value"`` the replaced value, ``"key"`` the key).

The project the stack lives in holds the template units of ``UNIT_FILES``: ``web-ide`` (valid),
``rooty`` (runs as root: no ``User=%i``), ``badutf`` (not UTF-8) and ``shadow`` (a symlink to a
file that is no unit of Keystone's).
"""
from __future__ import annotations

import datetime
import pathlib
from dataclasses import dataclass

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.harness.units import install_units, template_unit


@dataclass(frozen=True)
class Case:
    id: str
    old: str
    """Whole lines of BASE (one place) to replace."""
    new: str
    """Their replacement (may be several lines, or empty to delete them)."""
    key: str
    """The key path the issue must name (``keystone:hosts.0.user``)."""
    fragment: str
    """Text that must appear in the issue."""
    anchor: str | None = None
    """Start of the (first) line the issue must point at, in the edited file; default: the replacement's first
    line.  A problem of a whole mapping or list points at its first line, as pydantic's errors do."""
    col: str | None = None
    """Where on that line: ``"value"`` (after ``key: ``), ``"key"`` (the key, after any ``- ``), None: not checked."""


def case(id: str, old: str, new: str, key: str, fragment: str, anchor: str | None = None, col: str | None = None):
    return pytest.param(Case(id, old, new, key, fragment, anchor, col), id=id)


def column(line: str, where: str) -> int:
    """1-based column of a line's value (``where="value"``) or key (``"key"``)."""
    if where == "value":
        return line.index(": ") + 3
    return len(line) - len(line.lstrip(" -")) + 1


def install(project: pathlib.Path) -> None:
    """The template units the hostile stack's project holds."""
    install_units(project, "workstation/units/web-ide@.service")
    units = project / "workstation" / "units"
    (units / "rooty@.service").write_text(template_unit("rooty").replace("User=%i\n", ""))
    (units / "badutf@.service").write_bytes(template_unit("badutf").encode() + b"\xff\xfe")
    (units / "shadow@.service").symlink_to("/etc/passwd")


def _pem(not_before: datetime.datetime, not_after: datetime.datetime) -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hostile-ca")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(not_before).not_valid_after(not_after)
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _second_block(pem: str) -> str:
    """The base CA's last line followed by a second certificate."""
    return END + "\n" + "\n".join(f"        {line}" for line in pem.splitlines())


NOW = datetime.datetime.now(datetime.UTC)
END = "        -----END CERTIFICATE-----"
EXPIRED = _second_block(_pem(NOW - datetime.timedelta(days=400), NOW - datetime.timedelta(days=35)))
NOT_YET = _second_block(_pem(NOW + datetime.timedelta(days=30), NOW + datetime.timedelta(days=400)))

W, S0, F0, M0, WS = ("keystone:workstation", "keystone:workstation.services.0", "keystone:workstation.files.0",
                     "keystone:workstation.maps.0", "keystone:workstation.workspace")
PK = "keystone:kubernetes.peopleKubeconfig"
MAP = "      - path: /etc/keystone/web-ide.map"
FILE = "      - path: .config/keystone/hello.sh"
FMODE = '        mode: "0600"'
TEMPLATE = '        template: "echo {{ name }}"'
ENV = '        environment: "LISTEN=127.0.0.1:{{ port }}"'
UNIT = "        unit: web-ide\n        unitFile: workstation/units/web-ide@.service"
REPO = "      repository: https://git.example.org/team/code.git"
BRANCH = "      branch: main"
SERVER = "      server: https://k8s.example.org:6443"
ISSUER = "      issuerUrl: https://sso.example.org/application/o/kubernetes/"
CYRILLIC_E, CYRILLIC_O = "\u0435", "\u043e"


def unit(name: str) -> str:
    return f"        unit: {name}\n        unitFile: workstation/units/{name}@.service"


V = "value"
CASES = [
    # --- maps: files root writes, only below /etc/keystone/ ----------------------------------------
    case("ws-map-passwd", MAP, "      - path: /etc/passwd", f"{M0}.path", "outside /etc/keystone/", col=V),
    case("ws-map-shadow-traversal", MAP, "      - path: /etc/keystone/../shadow", f"{M0}.path", "contains '..'", col=V),
    case("ws-map-other-unit", MAP, "      - path: /etc/systemd/system/ssh.service", f"{M0}.path", "outside /etc/keystone/",
         col=V),
    case("ws-map-in-a-home", MAP, "      - path: /home/alice/.bashrc", f"{M0}.path", "outside /etc/keystone/", col=V),
    case("ws-map-keystone-dir-itself", MAP, "      - path: /etc/keystone", f"{M0}.path", "outside /etc/keystone/", col=V),
    case("ws-map-environment-file", MAP, "      - path: /etc/keystone/workstation/web-ide/alice.env", f"{M0}.path",
         "where Keystone writes files of its own", col=V),
    case("ws-map-environment-dir", MAP, "      - path: /etc/keystone/workstation", f"{M0}.path",
         "where Keystone writes files of its own", col=V),
    case("ws-map-lookalike", MAP, f"      - path: /etc/keystone/w{CYRILLIC_E}b-ide.map", f"{M0}.path",
         f"contains '{CYRILLIC_E}'", col=V),
    case("ws-map-trailing-space", MAP, '      - path: "/etc/keystone/web-ide.map "', f"{M0}.path", "contains ' '", col=V),
    case("ws-map-overlong-name", MAP, f"      - path: /etc/keystone/{'m' * 256}", f"{M0}.path", "name of 256 bytes",
         col=V),
    case("ws-map-variable", MAP, '      - path: "/etc/keystone/$HOME.map"', f"{M0}.path", "contains '$'", col=V),
    case("ws-map-newline", MAP, '      - path: "/etc/keystone/a\\nb.map"', f"{M0}.path", "contains '\\n'", col=V),
    case("ws-map-relative-to-etc", MAP, "      - path: keystone/web-ide.map", f"{M0}.path", "not an absolute path", col=V),
    case("ws-map-two-on-one-path", '        mode: "0644"', '        mode: "0644"\n'
         "      - {path: /etc/keystone/web-ide.map, service: web-ide}", W, "two maps would write one file",
         "    tierGroups:", col="key"),
    case("ws-map-inside-another", '        mode: "0644"', '        mode: "0644"\n'
         "      - {path: /etc/keystone/web-ide.map/x, service: web-ide}", W, "lies inside another",
         "    tierGroups:", col="key"),
    case("ws-map-world-writable", '        mode: "0644"', '        mode: "0666"', f"{M0}.mode", "world-writable", col=V),
    case("ws-map-group-writable", '        mode: "0644"', '        mode: "0664"', f"{M0}.mode", "group-writable", col=V),
    # --- seeded files: paths in a home -------------------------------------------------------------------
    case("ws-file-absolute", FILE, "      - path: /etc/passwd", f"{F0}.path", "not relative to the home", col=V),
    case("ws-file-tilde", FILE, "      - path: ~/.bashrc", f"{F0}.path", "not relative to the home", col=V),
    case("ws-file-variable", FILE, '      - path: "$HOME/.bashrc"', f"{F0}.path", "contains '$'", col=V),
    case("ws-file-inner-traversal", FILE, "      - path: .config/../../etc/passwd", f"{F0}.path", "contains '..'", col=V),
    case("ws-file-double-slash", FILE, "      - path: .config//hello.sh", f"{F0}.path", "not normalised", col=V),
    case("ws-file-dot", FILE, "      - path: ./hello.sh", f"{F0}.path", "not normalised", col=V),
    case("ws-file-trailing-slash", FILE, "      - path: .config/keystone/", f"{F0}.path", "not normalised", col=V),
    case("ws-file-authorized-keys", FILE, "      - path: .ssh/authorized_keys", f"{F0}.path", "belongs to sshd", col=V),
    case("ws-file-ssh-rc", FILE, "      - path: .ssh/rc", f"{F0}.path", "belongs to sshd", col=V),
    case("ws-file-ssh-dir", FILE, "      - path: .ssh", f"{F0}.path", "holds .ssh/authorized_keys", col=V),
    case("ws-file-kubeconfig", FILE, "      - path: .kube/config", f"{F0}.path", "a file Keystone writes", col=V),
    case("ws-file-kube-dir", FILE, "      - path: .kube", f"{F0}.path", "holds .kube/config", col=V),
    case("ws-file-lookalike", FILE, f"      - path: .c{CYRILLIC_O}nfig/hello.sh", f"{F0}.path", f"contains '{CYRILLIC_O}'",
         col=V),
    case("ws-file-trailing-space", FILE, '      - path: ".bashrc "', f"{F0}.path", "contains ' '", col=V),
    case("ws-file-overlong-name", FILE, f"      - path: .config/{'f' * 256}", f"{F0}.path", "name of 256 bytes", col=V),
    case("ws-file-workspace-path", FILE, "      - path: code", W, "files and workspace paths must be distinct (one path, one resource): code",
         "    tierGroups:", col="key"),
    case("ws-file-inside-workspace", FILE, "      - path: code/.git/hooks/post-checkout", W, "code holds code/.git",
         "    tierGroups:", col="key"),
    case("ws-file-seed-copy-path", FILE, "      - path: .bashrc.keystone-seed", W, "keystone-seed", "    tierGroups:",
         col="key"),
    case("ws-file-world-writable", FMODE, '        mode: "0666"', f"{F0}.mode", "world-writable", col=V),
    case("ws-file-group-writable", FMODE, '        mode: "0620"', f"{F0}.mode", "group-writable", col=V),
    # --- templates: sandboxed, strict -----------------------------------------------------------------------
    case("ws-template-port-in-a-file", TEMPLATE, '        template: "{{ port }}"', f"{F0}.template", "'port' is undefined",
         col=V),
    case("ws-template-include", TEMPLATE, "        template: '{% include \"/etc/shadow\" %}'", f"{F0}.template",
         "'include' is not allowed", col=V),
    case("ws-template-import", TEMPLATE, "        template: '{% import \"x\" as x %}'", f"{F0}.template",
         "'import' is not allowed", col=V),
    case("ws-template-extends", TEMPLATE, "        template: '{% extends \"base\" %}'", f"{F0}.template",
         "'extends' is not allowed", col=V),
    case("ws-template-python-internals", TEMPLATE, "        template: '{{ user.__class__.__mro__ }}'",
         f"{F0}.template", "not allowed in a template", col=V),
    case("ws-template-attr-filter", TEMPLATE, "        template: '{{ user|attr(\"__class__\") }}'",
         f"{F0}.template", "not allowed in a template", col=V),
    case("ws-template-division-by-zero", TEMPLATE, "        template: '{{ uid / 0 }}'", f"{F0}.template",
         "ZeroDivisionError", col=V),
    case("ws-template-type-error", TEMPLATE, "        template: '{{ uid + user }}'", f"{F0}.template", "TypeError",
         col=V),
    case("ws-template-huge", TEMPLATE, "        template: '{{ \"x\" * 1000000000 }}'", f"{F0}.template", "too large",
         col=V),
    case("ws-template-huge-power", TEMPLATE, "        template: '{{ 9 ** 99999999 }}'", f"{F0}.template",
         "too large", col=V),
    case("ws-template-global", TEMPLATE, "        template: '{{ lipsum() }}'", f"{F0}.template",
         "'lipsum' is undefined", col=V),
    case("ws-template-huge-range", TEMPLATE, "        template: '{{ range(10 ** 9) | list }}'", f"{F0}.template",
         "Range too big", col=V),
    case("ws-template-huge-center", TEMPLATE, "        template: '{{ name|center(300000000) }}'", f"{F0}.template",
         "a width or count of 300000000 is too large", col=V),
    case("ws-template-huge-format-width", TEMPLATE, "        template: '{{ \"%300000000s\" % name }}'", f"{F0}.template",
         "a width of 300000000 in a format is too large", col=V),
    # --- service environments -------------------------------------------------------------------------------
    case("ws-env-port", ENV, '        environment: "PORT={{ port }}"', f"{S0}.environment",
         "defines PORT, which Keystone writes", col=V),
    case("ws-env-home", ENV, '        environment: "HOME=/root"', f"{S0}.environment", "defines HOME", col=V),
    case("ws-env-user", ENV, '        environment: "A=1\\nUSER=root"', f"{S0}.environment", "line 2 defines USER", col=V),
    case("ws-env-ld-preload", ENV, '        environment: "LD_PRELOAD=/tmp/x.so"', f"{S0}.environment",
         "defines LD_PRELOAD", col=V),
    case("ws-env-continuation", ENV, '        environment: "A=x\\\\\\nPORT=1"', f"{S0}.environment",
         "ends with '\\'", col=V),
    case("ws-env-malformed", ENV, '        environment: "just words"', f"{S0}.environment", "is not KEY=value", col=V),
    case("ws-env-bad-key", ENV, '        environment: "1A=x"', f"{S0}.environment", "is not KEY=value", col=V),
    case("ws-env-unbalanced-quote", ENV, "        environment: \"A='x\"", f"{S0}.environment", "unbalanced quote",
         col=V),
    case("ws-env-internals", ENV, '        environment: "A={{ port.__class__ }}"', f"{S0}.environment",
         "not allowed in a template", col=V),
    # --- template units: /etc/systemd/system/<unit>@.service, from the repository ---------------------------
    case("ws-unit-getty", UNIT, unit("getty"), f"{S0}.unit", "template unit of the system", col=V),
    case("ws-unit-systemd", UNIT, unit("systemd-fsck"), f"{S0}.unit", "template unit of the system", col=V),
    case("ws-unit-ssh", UNIT, unit("ssh"), f"{S0}.unit", "template unit of the system", col=V),
    case("ws-unit-user", UNIT, unit("user"), f"{S0}.unit", "template unit of the system", col=V),
    case("ws-unit-file-missing", UNIT, unit("nope"), f"{S0}.unitFile", "does not exist in the project",
         "        unitFile:", col=V),
    case("ws-unit-file-runs-as-root", UNIT, unit("rooty"), f"{S0}.unitFile", "lacks User=%i", "        unitFile:",
         col=V),
    case("ws-unit-file-not-utf8", UNIT, unit("badutf"), f"{S0}.unitFile", "not UTF-8", "        unitFile:", col=V),
    case("ws-unit-file-system-file", UNIT, unit("shadow"), f"{S0}.unitFile", "lacks User=%i", "        unitFile:",
         col=V),
    case("ws-unit-file-traversal", "        unitFile: workstation/units/web-ide@.service",
         "        unitFile: workstation/../../etc/web-ide@.service", f"{S0}.unitFile", "contains '..'", col=V),
    case("ws-unit-file-lookalike", "        unitFile: workstation/units/web-ide@.service",
         f"        unitFile: w{CYRILLIC_O}rkstation/units/web-ide@.service", f"{S0}.unitFile",
         f"contains '{CYRILLIC_O}'", col=V),
    # --- workspace: a clone URL without credentials, a git ref -----------------------------------------------
    case("ws-repo-password", REPO, "      repository: https://alice:hunter2@git.example.org/team/code.git",
         f"{WS}.repository", "carries credentials", col=V),
    case("ws-repo-token", REPO, "      repository: https://hunter2@git.example.org/team/code.git",
         f"{WS}.repository", "carries credentials", col=V),
    case("ws-repo-scp-password", REPO, "      repository: alice:hunter2@git.example.org:team/code.git",
         f"{WS}.repository", "carries credentials", col=V),
    case("ws-repo-ssh-password", REPO, "      repository: ssh://git:hunter2@git.example.org/team/code.git",
         f"{WS}.repository", "carries credentials", col=V),
    case("ws-repo-bad-host", REPO, "      repository: https://git..example.org/team/code.git", f"{WS}.repository",
         "invalid host name", col=V),
    case("ws-repo-bad-port", REPO, "      repository: https://git.example.org:99999/team/code.git",
         f"{WS}.repository", "has port", col=V),
    case("ws-repo-no-path", REPO, "      repository: https://git.example.org", f"{WS}.repository",
         "no repository path", col=V),
    case("ws-repo-file-scheme", REPO, "      repository: file:///etc", f"{WS}.repository", "not a https or ssh URL",
         col=V),
    case("ws-repo-option", REPO, "      repository: --upload-pack=id", f"{WS}.repository", "not a clone URL", col=V),
    case("ws-repo-lookalike-host", REPO, f"      repository: https://git.{CYRILLIC_E}xample.org/team/code.git",
         f"{WS}.repository", "invalid host name", col=V),
    case("ws-branch-option", BRANCH, "      branch: -main", f"{WS}.branch", "starts with '-'", col=V),
    case("ws-branch-lock", BRANCH, "      branch: main.lock", f"{WS}.branch", "'.lock'", col=V),
    case("ws-branch-space", BRANCH, '      branch: "my branch"', f"{WS}.branch", "contains ' '", col=V),
    case("ws-branch-reflog", BRANCH, "      branch: main@{1}", f"{WS}.branch", "'@{'", col=V),
    case("ws-branch-trailing-dot", BRANCH, "      branch: main.", f"{WS}.branch", "not a ref name", col=V),
    case("ws-branch-hidden-component", BRANCH, "      branch: feature/.hidden", f"{WS}.branch", "starting with '.'",
         col=V),
    case("ws-branch-colon", BRANCH, '      branch: "a:b"', f"{WS}.branch", "contains ':'", col=V),
    case("ws-branch-lookalike", BRANCH, f"      branch: m{CYRILLIC_E}in", f"{WS}.branch", "beyond ASCII", col=V),
    case("ws-workspace-path-absolute", "      path: code", "      path: /srv/code", f"{WS}.path",
         "not relative to the home", col=V),
    case("ws-workspace-path-ssh", "      path: code", "      path: .ssh", f"{WS}.path", "belongs to sshd", col=V),
    # --- idle rule ----------------------------------------------------------------------------------------------
    case("ws-idle-zero", "    idleMinutes: 20", "    idleMinutes: 0", f"{W}.idleMinutes", "at least 1", col=V),
    case("ws-idle-word", "    idleMinutes: 20", "    idleMinutes: soon", f"{W}.idleMinutes", "expected a whole number",
         col=V),
    case("ws-idle-bool", "    idleMinutes: 20", "    idleMinutes: yes", f"{W}.idleMinutes", "expected a whole number",
         col=V),
    # --- kubernetes: URLs with valid hosts and ports, the CA as X.509 ------------------------------------------
    case("k8s-server-empty-label", SERVER, "      server: https://k8s..example.org:6443", f"{PK}.server",
         "invalid host name", col=V),
    case("k8s-server-dash-label", SERVER, "      server: https://-k8s.example.org:6443", f"{PK}.server",
         "invalid host name", col=V),
    case("k8s-server-underscore", SERVER, "      server: https://k8s_api.example.org:6443", f"{PK}.server",
         "invalid host name", col=V),
    case("k8s-server-lookalike", SERVER, f"      server: https://k8s.{CYRILLIC_E}xample.org:6443", f"{PK}.server",
         "invalid host name", col=V),
    case("k8s-server-port-zero", SERVER, "      server: https://k8s.example.org:0", f"{PK}.server", "has port '0'",
         col=V),
    case("k8s-server-port-high", SERVER, "      server: https://k8s.example.org:70000", f"{PK}.server",
         "has port '70000'", col=V),
    case("k8s-server-port-empty", SERVER, "      server: 'https://k8s.example.org:'", f"{PK}.server", "has port ''",
         col=V),
    case("k8s-server-bad-ipv4", SERVER, "      server: https://10.0.0.300:6443", f"{PK}.server",
         "invalid IPv4 address", col=V),
    case("k8s-server-zone", SERVER, '      server: "https://[fe80::1%eth0]:6443"', f"{PK}.server", "IPv6", col=V),
    case("k8s-server-query", SERVER, "      server: https://k8s.example.org/?x=1", f"{PK}.server",
         "not an http(s) URL", col=V),
    case("k8s-issuer-dash-label", ISSUER, "      issuerUrl: https://sso-.example.org/application/o/kubernetes/",
         f"{PK}.issuerUrl", "invalid host name", col=V),
    case("k8s-issuer-port-high", ISSUER, "      issuerUrl: https://sso.example.org:65536/application/o/kubernetes/",
         f"{PK}.issuerUrl", "has port", col=V),
    case("k8s-issuer-space", ISSUER, '      issuerUrl: "https://sso.example.org /o/"', f"{PK}.issuerUrl",
         "not an http(s) URL", col=V),
    case("k8s-ca-not-x509", "        MIIBkzCCATmgAwIBAgIUWBMwSOx4Bz1K2OxDwVrVBmDw4aowCgYIKoZIzj0EAwIw",
         "        MIIBkzAAATmgAwIBAgIUWBMwSOx4Bz1K2OxDwVrVBmDw4aowCgYIKoZIzj0EAwIw", f"{PK}.certificateAuthority",
         "not an X.509 certificate", "      certificateAuthority:", col=V),
    case("k8s-ca-expired", END, EXPIRED, f"{PK}.certificateAuthority", "block 2 expired on",
         "      certificateAuthority:", col=V),
    case("k8s-ca-not-yet-valid", END, NOT_YET, f"{PK}.certificateAuthority", "block 2 is valid only from", "      certificateAuthority:", col=V),
    case("k8s-cluster-lookalike", "      clusterName: prod", f"      clusterName: pr{CYRILLIC_O}d", f"{PK}.clusterName",
         "invalid cluster name", col=V),
    case("k8s-client-id-trailing-space", "      clientId: kubernetes", '      clientId: "kubernetes "',
         f"{PK}.clientId", "invalid client id", col=V),
    case("k8s-context-lookalike", "    context: prod-cluster", f"    context: prod-{CYRILLIC_E}luster",
         "keystone:kubernetes.context", "invalid kubeconfig context", col=V),
    case("k8s-kubeconfig-trailing-space", "    kubeconfig: ~/.kube/config", '    kubeconfig: "~/.kube/config "',
         "keystone:kubernetes.kubeconfig", "contains ' '", col=V),
]
