"""Hostile and mistaken stack settings, one per case: each must be reported with its key and line.

Like the roster's corpus (``tests/unit/roster/test_hostile.py``): every case edits one line of a valid
stack file (``BASE``, every key set) and names the issue that must appear — the key path, a fragment
of its message or hint, and the line it must point at (default: the replacement's first line).  Every
case also checks that the admin gets clean lines: no traceback, no pydantic URL, the file named.
"""
from __future__ import annotations

import time

import pytest

from settings import SettingsError, load_settings
from settings.model import StackSettings
from tests.harness import hostile_settings
from tests.harness.hostile_settings import Case, case, column

BASE = """\
config:
  keystone:roster: roster/roster.yaml
  keystone:minUid: 20000
  keystone:hosts:
    - name: ws1
      address: ws1.example.org
      port: 22
      user: keystone
      identityFile: ~/.ssh/keystone_ed25519
      knownHostsFile: /etc/keystone/known_hosts
      hostKeyAlias: ws1.example.org
      sudo: true
      connectTimeout: 15
    - name: ws2
      address: 192.0.2.20
  keystone:zfs:
    homeParent: rpool/crypt/home
    archiveParent: rpool/crypt/archive
    homeMountpoint: /home
  keystone:offboarding:
    allowDestroy: false
    allowDeleteWithoutOffboarding: false
  keystone:authentik:
    enabled: true
    url: https://sso.example.org
    gateGroup: keystone
    insecure: false
    application: workstation
    gatePolicy: keystone-gate
    exclusiveMembers: false
    deleteGroupOnDestroy: false
  keystone:kubernetes:
    kubeconfig: ~/.kube/config
    enabled: true
    context: prod-cluster
    oidcPrefix: "oidc:"
    providerVersion: 4.25.0
    peopleKubeconfig:
      clusterName: prod
      server: https://k8s.example.org:6443
      certificateAuthority: |
        -----BEGIN CERTIFICATE-----
        MIIBkzCCATmgAwIBAgIUWBMwSOx4Bz1K2OxDwVrVBmDw4aowCgYIKoZIzj0EAwIw
        HjEcMBoGA1UEAwwTa2V5c3RvbmUtZXhhbXBsZS1jYTAgFw0yNjEyMDExODA4MTJa
        GA8yMTI2MTEwNzE4MDgxMlowHjEcMBoGA1UEAwwTa2V5c3RvbmUtZXhhbXBsZS1j
        YTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABAJtnYResPUo9jn7jOFjjQ+TN4n9
        85IWTMuJAABg96snT+AMCHKnJiZRMfO9GzdBJg8ODnQ4ExZIShJjfLhacNCjUzBR
        MB0GA1UdDgQWBBQ55mbZ5qbEQNQu6EoZQJo7TqnNpzAfBgNVHSMEGDAWgBQ55mbZ
        5qbEQNQu6EoZQJo7TqnNpzAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gA
        MEUCIQCV9jd0bCaRSmOahtzvqUWkm8MLflsVNJCBgZWG/HyQtwIgT6o6yJCiqDLj
        iF4PLd9iI4gXcQEazjjgz2+eXmnS9Lw=
        -----END CERTIFICATE-----
      issuerUrl: https://sso.example.org/application/o/kubernetes/
      clientId: kubernetes
  keystone:promotion:
    after: staging
    organization: example-org
  keystone:authentikToken:
    secure: AAABAKsecret
  keystone:zerotierTimeout: 20
  keystone:zerotierRetries: 3
  keystone:peering:
    lans: [10.99.0.0/16, "fd00:99::/64"]
    allowPrivateAsns: false
    zerotier:
      mode: self_hosted
      url: http://10.0.0.1:9993
      networkId: 8056c2e21c000001
      deleteOnRemove: false
    rpki:
      rtr:
        - host: rtr1.example.net
          port: 3323
    filterPolicy:
      maxLengthV4: 24
      maxPathLength: 64
    routeServers:
      - name: rs1
        address: rs1.example.net
        user: root
        asn: 64511
        routerId: 10.99.0.1
        configDir: /etc/bird
        peersDir: /etc/bird/peers.d
        controlSocket: /run/bird/bird.ctl
        birdUser: bird
        confirmTimeout: 30
        limitAction: restart
        takeOverExisting: false
  keystone:workstation:
    tierGroups:
      admin: [sudo, adm]
    services:
      - name: web-ide
        unit: web-ide
        unitFile: workstation/units/web-ide@.service
        basePort: 20000
        range: 100
        tiers: [admin, power-user]
        environment: "LISTEN=127.0.0.1:{{ port }}"
        restart: when-idle
    files:
      - path: .config/keystone/hello.sh
        mode: "0600"
        template: "echo {{ name }}"
    workspace:
      repository: https://git.example.org/team/code.git
      branch: main
      path: code
    maps:
      - path: /etc/keystone/web-ide.map
        service: web-ide
        format: json
        mode: "0644"
    idleMinutes: 20
  keystone:base:
    packages: [git, zsh]
    removeDropped: false
    kubelogin: /usr/local/bin/kubectl-oidc_login
    fileDirs: [/etc/profile.d, /etc/skel]
    files:
      - path: /etc/profile.d/keystone.sh
        template: "export KEYSTONE_STACK={{ stack }}"
        mode: "0444"
        owner: 0
        group: 0
    budgets:
      default: {memoryMax: 8G, cpuWeight: 100, tasksMax: 4096}
      tiers:
        admin: {memoryMax: 16G}
      maxActivePeople: 40
      swap: reported
    backups:
      schedule: hourly
      keep: 48
      backupParent: rpool/backup/home
      maxAgeHours: 3
"""

STATIC_ROAS = "      staticRoas:\n        - {prefix: 203.0.113.0/24, maxLength: 24, asn: 64500}"
RTR = "      rtr:\n        - host: rtr1.example.net\n          port: 3323"


H0, H1, RS = "keystone:hosts.0", "keystone:hosts.1", "keystone:peering.routeServers.0"
B, BF, BB = "keystone:base", "keystone:base.files.0", "keystone:base.budgets"
PKGS, BUDGET, FILE_TEMPLATE = "    packages: [git, zsh]", "      default: {memoryMax: 8G, cpuWeight: 100, tasksMax: 4096}", \
    '        template: "export KEYSTONE_STACK={{ stack }}"'
Q = '"'

CASES = [
    # --- roster / minUid --------------------------------------------------------------------------
    case("roster-traversal", "  keystone:roster: roster/roster.yaml", "  keystone:roster: ../../etc/roster.yaml",
         "keystone:roster", "roster path '../../etc/roster.yaml' contains '..' (it must stay inside the project"),
    case("roster-absolute-metachar", "  keystone:roster: roster/roster.yaml", '  keystone:roster: "roster.yaml; id"',
         "keystone:roster", "roster path 'roster.yaml; id' contains ';'"),
    case("roster-absolute-traversal", "  keystone:roster: roster/roster.yaml", "  keystone:roster: /srv/../etc/roster.yaml",
         "keystone:roster", "contains '..'"),
    case("roster-dot-yaml", "  keystone:roster: roster/roster.yaml", "  keystone:roster: roster/.yaml",
         "keystone:roster", "is not a .yaml file"),
    case("roster-not-yaml", "  keystone:roster: roster/roster.yaml", "  keystone:roster: roster/roster.json",
         "keystone:roster", ".yaml file"),
    case("min-uid-low", "  keystone:minUid: 20000", "  keystone:minUid: 0", "keystone:minUid", "at least 1000"),
    case("min-uid-high", "  keystone:minUid: 20000", "  keystone:minUid: 65534", "keystone:minUid", "at most 60000"),
    case("min-uid-bool", "  keystone:minUid: 20000", "  keystone:minUid: true", "keystone:minUid",
         "expected a whole number"),
    case("min-uid-text", "  keystone:minUid: 20000", "  keystone:minUid: lots", "keystone:minUid",
         "expected a whole number"),
    # --- hosts --------------------------------------------------------------------------------------
    case("hosts-not-a-list", "  keystone:hosts:", "  keystone:hosts: ws1\n  keystone:unused:", "keystone:hosts",
         "expected a list"),
    case("host-name-upper", "    - name: ws1", "    - name: WS1", f"{H0}.name", "invalid host name"),
    case("host-name-dots", "    - name: ws1", "    - name: ws1.example.org", f"{H0}.name", "invalid host name"),
    case("host-name-duplicate", "    - name: ws2", "    - name: ws1", "keystone:hosts", "host names must be unique",
         "    - name: ws1"),
    case("host-address-option", "      address: ws1.example.org", '      address: "-oProxyCommand=id"',
         f"{H0}.address", "starts with '-'"),
    case("host-address-metachar", "      address: ws1.example.org", '      address: "ws1;reboot"',
         f"{H0}.address", "invalid SSH address"),
    case("host-address-bad-ipv4", "      address: 192.0.2.20", "      address: 192.0.2.300", f"{H1}.address",
         "not a valid IP address"),
    case("host-address-space", "      address: ws1.example.org", '      address: "ws1 example"', f"{H0}.address",
         "invalid SSH address"),
    case("host-address-empty", "      address: ws1.example.org", '      address: ""', f"{H0}.address", "is empty"),
    case("host-address-missing", "      address: 192.0.2.20", "", f"{H1}.address", "required key 'address'",
         "    - name: ws2"),
    case("host-same-target", "      address: 192.0.2.20", "      address: ws1.example.org\n      port: 22\n"
         "      user: keystone", "keystone:hosts", "same SSH target", "    - name: ws1"),
    case("host-port-zero", "      port: 22", "      port: 0", f"{H0}.port", "at least 1"),
    case("host-port-high", "      port: 22", "      port: 65536", f"{H0}.port", "at most 65535"),
    case("host-port-bool", "      port: 22", "      port: true", f"{H0}.port", "expected a whole number"),
    case("host-port-word", "      port: 22", "      port: ssh", f"{H0}.port", "expected a whole number"),
    case("user-empty", "      user: keystone", '      user: ""', f"{H0}.user", "user name is empty"),
    case("user-space", "      user: keystone", '      user: "key stone"', f"{H0}.user", "' ' is not allowed"),
    case("user-semicolon", "      user: keystone", '      user: "root;id"', f"{H0}.user", "';' is not allowed"),
    case("user-dash", "      user: keystone", '      user: "-oProxyCommand=id"', f"{H0}.user", "starts with '-'"),
    case("user-upper", "      user: keystone", "      user: Keystone", f"{H0}.user", "names are lower case"),
    case("user-overlong", "      user: keystone", f"      user: {'k' * 33}", f"{H0}.user", "at most 32"),
    case("user-non-ascii", "      user: keystone", "      user: kéystone", f"{H0}.user", "invalid user name"),
    case("user-number", "      user: keystone", "      user: 1000", f"{H0}.user", "must be a string"),
    case("user-newline", "      user: keystone", f"      user: {Q}root\\nid{Q}", f"{H0}.user", "'\\n' is not allowed"),
    case("identity-relative", "      identityFile: ~/.ssh/keystone_ed25519", "      identityFile: id_ed25519",
         f"{H0}.identityFile", "not an absolute path"),
    case("identity-traversal", "      identityFile: ~/.ssh/keystone_ed25519", "      identityFile: ~/../root/.ssh/id",
         f"{H0}.identityFile", "contains '..'"),
    case("identity-space", "      identityFile: ~/.ssh/keystone_ed25519", '      identityFile: "/keys/my key"',
         f"{H0}.identityFile", "contains ' '"),
    case("identity-ssh-token", "      identityFile: ~/.ssh/keystone_ed25519", '      identityFile: "/keys/%u"',
         f"{H0}.identityFile", "contains '%'"),
    case("known-hosts-double-slash", "      knownHostsFile: /etc/keystone/known_hosts",
         "      knownHostsFile: /etc//keystone/known_hosts", f"{H0}.knownHostsFile", "'/etc/keystone/known_hosts'"),
    case("known-hosts-two-files", "      knownHostsFile: /etc/keystone/known_hosts",
         '      knownHostsFile: "/etc/a /etc/b"', f"{H0}.knownHostsFile", "contains ' '"),
    case("host-key-alias-space", "      hostKeyAlias: ws1.example.org", '      hostKeyAlias: "ws1 -oX=y"',
         f"{H0}.hostKeyAlias", "invalid host key alias"),
    case("sudo-string", "      sudo: true", "      sudo: sometimes", f"{H0}.sudo", "expected true or false"),
    case("connect-timeout-zero", "      connectTimeout: 15", "      connectTimeout: 0", f"{H0}.connectTimeout",
         "at least 1"),
    case("host-unknown-key", "      connectTimeout: 15", "      connectTimeOut: 15", f"{H0}.connectTimeOut",
         "did you mean 'connectTimeout'"),
    # --- zfs ----------------------------------------------------------------------------------------
    case("home-parent-traversal", "    homeParent: rpool/crypt/home", "    homeParent: rpool/../etc",
         "keystone:zfs.homeParent", "contains '..'"),
    case("home-parent-pool-only", "    homeParent: rpool/crypt/home", "    homeParent: rpool",
         "keystone:zfs.homeParent", "is a pool"),
    case("home-parent-space", "    homeParent: rpool/crypt/home", '    homeParent: "rpool/my homes"',
         "keystone:zfs.homeParent", "contains ' '"),
    case("home-parent-snapshot", "    homeParent: rpool/crypt/home", "    homeParent: rpool/crypt/home@snap",
         "keystone:zfs.homeParent", "names a snapshot"),
    case("home-parent-leading-slash", "    homeParent: rpool/crypt/home", "    homeParent: /rpool/crypt/home",
         "keystone:zfs.homeParent", "empty component"),
    case("home-parent-reserved-pool", "    homeParent: rpool/crypt/home", "    homeParent: mirror/home",
         "keystone:zfs.homeParent", "reserved by ZFS"),
    case("home-parent-overlong", "    homeParent: rpool/crypt/home", f"    homeParent: rpool/{'h' * 230}",
         "keystone:zfs.homeParent", "room is kept"),
    case("archive-equals-home", "    archiveParent: rpool/crypt/archive", "    archiveParent: rpool/crypt/home",
         "keystone:zfs", "must differ", "    homeParent:"),
    case("archive-inside-home", "    archiveParent: rpool/crypt/archive", "    archiveParent: rpool/crypt/home/x",
         "keystone:zfs", "inside homeParent", "    homeParent:"),
    case("mountpoint-relative", "    homeMountpoint: /home", "    homeMountpoint: home", "keystone:zfs.homeMountpoint",
         "not an absolute path"),
    case("mountpoint-command", "    homeMountpoint: /home", '    homeMountpoint: "/home; id"',
         "keystone:zfs.homeMountpoint", "contains ';'"),
    case("mountpoint-substitution", "    homeMountpoint: /home", '    homeMountpoint: "/home$(id)"',
         "keystone:zfs.homeMountpoint", "contains '$'"),
    case("mountpoint-traversal", "    homeMountpoint: /home", "    homeMountpoint: /home/../etc",
         "keystone:zfs.homeMountpoint", "contains '..'"),
    case("mountpoint-empty", "    homeMountpoint: /home", '    homeMountpoint: ""', "keystone:zfs.homeMountpoint",
         "is empty"),
    case("mountpoint-root", "    homeMountpoint: /home", "    homeMountpoint: /", "keystone:zfs.homeMountpoint",
         "root directory"),
    case("mountpoint-system-dir", "    homeMountpoint: /home", "    homeMountpoint: /etc",
         "keystone:zfs.homeMountpoint", "system directory"),
    case("mountpoint-trailing-slash", "    homeMountpoint: /home", "    homeMountpoint: /home/",
         "keystone:zfs.homeMountpoint", "not normalised"),
    case("zfs-unknown-key", "    homeMountpoint: /home", "    mountpoint: /home", "keystone:zfs.mountpoint",
         "did you mean 'homeMountpoint'"),
    # --- offboarding ----------------------------------------------------------------------------------
    case("allow-destroy-string", "    allowDestroy: false", '    allowDestroy: "no"', "keystone:offboarding.allowDestroy",
         "expected true or false"),
    case("allow-delete-number", "    allowDeleteWithoutOffboarding: false", "    allowDeleteWithoutOffboarding: 1",
         "keystone:offboarding.allowDeleteWithoutOffboarding", "expected true or false"),
    # --- authentik ------------------------------------------------------------------------------------
    case("authentik-url-missing", "    url: https://sso.example.org", "", "keystone:authentik", "url is required",
         "    enabled: true"),
    case("authentik-url-scheme", "    url: https://sso.example.org", "    url: ftp://sso.example.org",
         "keystone:authentik.url", "not an http(s) URL"),
    case("authentik-url-credentials", "    url: https://sso.example.org", "    url: https://admin:hunter2@sso.example.org",
         "keystone:authentik.url", "must not contain credentials"),
    case("authentik-url-space", "    url: https://sso.example.org", '    url: "https://sso.example.org/ x"',
         "keystone:authentik.url", "not an http(s) URL"),
    case("gate-group-quote", "    gateGroup: keystone", "    gateGroup: 'keystone\" OR 1=1'",
         "keystone:authentik.gateGroup", "invalid group name"),
    case("authentik-enabled-word", "    enabled: true\n    url: https://sso.example.org",
         "    enabled: maybe\n    url: https://sso.example.org", "keystone:authentik.enabled", "expected true or false"),
    case("authentik-application-space", "    application: workstation", "    application: work station",
         "keystone:authentik.application", "invalid application slug"),
    case("authentik-application-traversal", "    application: workstation", "    application: ../admin",
         "keystone:authentik.application", "invalid application slug"),
    case("authentik-application-long", "    application: workstation", "    application: " + "w" * 51,
         "keystone:authentik.application", "at most 50 characters"),
    case("authentik-gate-policy-trailing-space", "    gatePolicy: keystone-gate", '    gatePolicy: "keystone-gate "',
         "keystone:authentik.gatePolicy", "invalid policy name"),
    case("authentik-gate-policy-code", "    gatePolicy: keystone-gate", "    gatePolicy: 'x\"); return True #'",
         "keystone:authentik.gatePolicy", "invalid policy name"),
    case("authentik-exclusive-word", "    exclusiveMembers: false", "    exclusiveMembers: sometimes",
         "keystone:authentik.exclusiveMembers", "expected true or false"),
    case("authentik-delete-group-number", "    deleteGroupOnDestroy: false", "    deleteGroupOnDestroy: 1",
         "keystone:authentik.deleteGroupOnDestroy", "expected true or false"),
    case("authentik-token-plaintext", "    secure: AAABAKsecret", "    notsecure: AAABAKsecret",
         "keystone:authentikToken", "secret in plain text", "  keystone:authentikToken:"),
    # --- kubernetes -----------------------------------------------------------------------------------
    case("kubeconfig-relative", "    kubeconfig: ~/.kube/config", "    kubeconfig: kube/config",
         "keystone:kubernetes.kubeconfig", "not an absolute path"),
    case("kubeconfig-traversal", "    kubeconfig: ~/.kube/config", "    kubeconfig: /etc/../root/.kube/config",
         "keystone:kubernetes.kubeconfig", "contains '..'"),
    case("kube-context-space", "    context: prod-cluster", '    context: "prod cluster"',
         "keystone:kubernetes.context", "invalid kubeconfig context"),
    case("oidc-prefix-system", '    oidcPrefix: "oidc:"', '    oidcPrefix: "system:"', "keystone:kubernetes",
         "must not start with 'system:'", "    kubeconfig:"),
    case("oidc-prefix-space", '    oidcPrefix: "oidc:"', '    oidcPrefix: "oidc: "', "keystone:kubernetes.oidcPrefix",
         "invalid OIDC prefix"),
    case("provider-version-range", "    providerVersion: 4.25.0", '    providerVersion: ">=4.25"',
         "keystone:kubernetes.providerVersion", "invalid plugin version"),
    case("provider-version-shell", "    providerVersion: 4.25.0", '    providerVersion: "4.25.0; id"',
         "keystone:kubernetes.providerVersion", "invalid plugin version"),
    case("people-kubeconfig-cluster-space", "      clusterName: prod", '      clusterName: "prod cluster"',
         "keystone:kubernetes.peopleKubeconfig.clusterName", "invalid cluster name"),
    case("people-kubeconfig-server-http", "      server: https://k8s.example.org:6443",
         "      server: http://k8s.example.org:6443", "keystone:kubernetes.peopleKubeconfig.server", "is not https"),
    case("people-kubeconfig-server-credentials", "      server: https://k8s.example.org:6443",
         "      server: https://admin:hunter2@k8s.example.org", "keystone:kubernetes.peopleKubeconfig.server",
         "must not contain credentials"),
    case("people-kubeconfig-ca-private-key", "        -----BEGIN CERTIFICATE-----", "        -----BEGIN PRIVATE KEY-----",
         "keystone:kubernetes.peopleKubeconfig.certificateAuthority", "holds a private key", "      certificateAuthority:"),
    case("people-kubeconfig-ca-garbage", "        MIIBkzCCATmgAwIBAgIUWBMwSOx4Bz1K2OxDwVrVBmDw4aowCgYIKoZIzj0EAwIw", "        not base64 at all!",
         "keystone:kubernetes.peopleKubeconfig.certificateAuthority", "holds no PEM certificate",
         "      certificateAuthority:"),
    case("people-kubeconfig-issuer-http", "      issuerUrl: https://sso.example.org/application/o/kubernetes/",
         "      issuerUrl: http://sso.example.org/application/o/kubernetes/",
         "keystone:kubernetes.peopleKubeconfig.issuerUrl", "is not https"),
    case("people-kubeconfig-client-id-space", "      clientId: kubernetes", '      clientId: "kube rnetes"',
         "keystone:kubernetes.peopleKubeconfig.clientId", "invalid client id"),
    case("people-kubeconfig-unknown-key", "      clientId: kubernetes", "      clientSecret: hunter2",
         "keystone:kubernetes.peopleKubeconfig.clientSecret", "unknown"),
    # --- workstation ----------------------------------------------------------------------------------
    case("ws-tier-group-space", "      admin: [sudo, adm]", '      admin: ["Bad Group"]', "keystone:workstation.tierGroups.admin.0",
         "invalid group name"),
    case("ws-tier-unknown", "      admin: [sudo, adm]", "      wizard: [sudo]", "keystone:workstation.tierGroups.wizard.[key]", "got 'wizard'"),
    case("ws-services-range-text", "        range: 100", '        range: "many"', "keystone:workstation.services.0.range", ""),
    case("ws-service-name-shell", "      - name: web-ide", '      - name: "web-ide; id"', "keystone:workstation.services.0.name", ""),
    case("ws-unit-traversal", "        unit: web-ide", '        unit: "../web-ide"', "keystone:workstation.services.0.unit", ""),
    case("ws-unit-file-absolute", "        unitFile: workstation/units/web-ide@.service",
         "        unitFile: /etc/web-ide.service", "keystone:workstation.services.0.unitFile", ""),
    case("ws-base-port-privileged", "        basePort: 20000", "        basePort: 80", "keystone:workstation.services.0.basePort", ""),
    case("ws-range-zero", "        range: 100", "        range: 0", "keystone:workstation.services.0.range", ""),
    case("ws-tiers-unknown", "        tiers: [admin, power-user]", "        tiers: [wizard]", "keystone:workstation.services.0.tiers.0", "got 'wizard'"),
    case("ws-environment-undefined", '        environment: "LISTEN=127.0.0.1:{{ port }}"', '        environment: "A={{ prot }}"',
         "keystone:workstation.services.0.environment", "'prot' is undefined"),
    case("ws-restart-unknown", "        restart: when-idle", "        restart: sometimes", "keystone:workstation.services.0.restart", ""),
    case("ws-file-path-traversal", "      - path: .config/keystone/hello.sh", "      - path: ../etc/passwd",
         "keystone:workstation.files.0.path", ""),
    case("ws-file-mode", '        mode: "0600"', '        mode: "999"', "keystone:workstation.files.0.mode", ""),
    case("ws-file-template", '        template: "echo {{ name }}"', '        template: "{{ user }"',
         "keystone:workstation.files.0.template", "template error"),
    case("ws-workspace-url-shell", "      repository: https://git.example.org/team/code.git",
         '      repository: "ftp://x; rm -rf /"', "keystone:workstation.workspace.repository", ""),
    case("ws-workspace-branch", "      branch: main", '      branch: "a..b"', "keystone:workstation.workspace.branch", ""),
    case("ws-map-relative", "      - path: /etc/keystone/web-ide.map", "      - path: relative.map", "keystone:workstation.maps.0.path", ""),
    case("ws-map-service", "        service: web-ide", "        service: nope", "keystone:workstation",
         "no service named 'nope'", "    tierGroups:"),
    case("ws-map-format", "        format: json", "        format: xml", "keystone:workstation.maps.0.format", ""),
    case("ws-workspace-not-a-mapping", "    workspace:", "    workspace: 3\n    old_workspace:", "keystone:workstation.workspace", "",
         "    workspace: 3"),
    # --- promotion ------------------------------------------------------------------------------------
    case("promotion-after-itself", "    after: staging", "    after: hostile", "keystone:promotion",
         "names this stack", "    after:"),
    case("promotion-after-slash", "    after: staging", "    after: org/staging", "keystone:promotion.after",
         "invalid stack name"),
    case("organization-space", "    organization: example-org", '    organization: "example org"',
         "keystone:promotion.organization", "invalid organization"),
    case("zerotier-retries-high", "  keystone:zerotierRetries: 3", "  keystone:zerotierRetries: 50",
         "keystone:zerotierRetries", "must be from 0 to 20"),
    case("zerotier-timeout-word", "  keystone:zerotierTimeout: 20", "  keystone:zerotierTimeout: soon",
         "keystone:zerotierTimeout", "expected a number"),
    # --- unknown and duplicate keys ---------------------------------------------------------------
    case("top-level-typo", "  keystone:minUid: 20000", "  keystone:minUID: 20000", "keystone:minUID",
         "did you mean 'minUid'"),
    case("duplicate-key", "    homeMountpoint: /home", "    homeMountpoint: /home\n    homeMountpoint: /srv/home",
         "keystone:zfs.homeMountpoint", "duplicate key", "    homeMountpoint: /srv/home"),
    # --- peering --------------------------------------------------------------------------------------
    case("lans-number", '    lans: [10.99.0.0/16, "fd00:99::/64"]', "    lans: [10]", "keystone:peering.lans.0",
         "peering LAN must be a string, got 10"),
    case("lans-host-bits", '    lans: [10.99.0.0/16, "fd00:99::/64"]', "    lans: [10.99.0.1/16]",
         "keystone:peering.lans.0", "has host bits set (did you mean 10.99.0.0/16?)"),
    case("lans-no-length", '    lans: [10.99.0.0/16, "fd00:99::/64"]', '    lans: [10.99.0.0/16, "fd00:99::"]',
         "keystone:peering.lans.1", "invalid peering LAN 'fd00:99::'"),
    case("lans-everything", '    lans: [10.99.0.0/16, "fd00:99::/64"]', "    lans: [0.0.0.0/0]",
         "keystone:peering.lans.0", "too large"),
    case("lans-two-v4", '    lans: [10.99.0.0/16, "fd00:99::/64"]', "    lans: [10.99.0.0/16, 10.98.0.0/16]",
         "keystone:peering.lans", "at most one IPv4"),
    case("zerotier-mode", "      mode: self_hosted", "      mode: hosted", "keystone:peering.zerotier.mode",
         "'central' or 'self_hosted'"),
    case("zerotier-url-credentials", "      url: http://10.0.0.1:9993", "      url: http://u:hunter2@10.0.0.1:9993",
         "keystone:peering.zerotier.url", "ZeroTier API URL must not contain credentials", col="value"),
    case("zerotier-url-scheme", "      url: http://10.0.0.1:9993", "      url: ftp://10.0.0.1",
         "keystone:peering.zerotier.url", "is not an http(s) URL", col="value"),
    case("zerotier-network-short", "      networkId: 8056c2e21c000001", "      networkId: 8056c2e21c",
         "keystone:peering.zerotier.networkId", "16 hex digits"),
    case("zerotier-network-number", "      networkId: 8056c2e21c000001", "      networkId: 1234567890123456",
         "keystone:peering.zerotier.networkId", "expected a string"),
    case("rtr-host-metachar", "        - host: rtr1.example.net", '        - host: "rtr1;reboot"',
         "keystone:peering.rpki.rtr.0.host", "invalid RTR host 'rtr1;reboot'", col="value"),
    case("rtr-host-partial-ipv4", "        - host: rtr1.example.net", "        - host: 10.1.2",
         "keystone:peering.rpki.rtr.0.host", "is not a valid IP address", col="value"),
    case("rtr-host-zone-index", "        - host: rtr1.example.net", '        - host: "fe80::1%eth0"',
         "keystone:peering.rpki.rtr.0.host", "has a zone index", col="value"),
    case("rtr-host-number", "        - host: rtr1.example.net", "        - host: 5",
         "keystone:peering.rpki.rtr.0.host", "expected a string", col="value"),
    case("roa-prefix-number", RTR, "      staticRoas:\n        - prefix: 5\n          maxLength: 32\n          asn: 64500",
         "keystone:peering.rpki.staticRoas.0.prefix", "ROA prefix must be a string", "        - prefix:", col="value"),
    case("roa-prefix-host-bits", RTR, STATIC_ROAS.replace("203.0.113.0/24", "203.0.113.1/24"),
         "keystone:peering.rpki.staticRoas.0.prefix", "has host bits set (did you mean 203.0.113.0/24?)",
         "        - {prefix:"),
    case("roa-max-length-short", RTR, STATIC_ROAS.replace("maxLength: 24", "maxLength: 20"),
         "keystone:peering.rpki.staticRoas.0", "maxLength 20 must be within 24..32", "        - {prefix:"),
    case("rtr-port-high", "          port: 3323", "          port: 70000", "keystone:peering.rpki.rtr.0.port",
         "at most 65535"),
    case("rpki-both-sources", "          port: 3323", "          port: 3323\n" + STATIC_ROAS, "keystone:peering.rpki",
         "exactly one of rtr", "      rtr:"),
    case("filter-max-length", "      maxLengthV4: 24", "      maxLengthV4: 33", "keystone:peering.filterPolicy.maxLengthV4",
         "at most 32"),
    case("filter-path-length", "      maxPathLength: 64", "      maxPathLength: 0",
         "keystone:peering.filterPolicy.maxPathLength", "at least 1"),
    case("rs-asn-reserved", "        asn: 64511", "        asn: 23456", f"{RS}.asn", "reserved"),
    case("rs-router-id-v6", "        routerId: 10.99.0.1", '        routerId: "fd00::1"', f"{RS}.routerId",
         "IPv4 address"),
    case("rs-user-metachar", "        user: root", '        user: "root$(id)"', f"{RS}.user", "'$' is not allowed"),
    case("rs-config-dir-relative", "        configDir: /etc/bird", "        configDir: etc/bird", f"{RS}.configDir",
         "not an absolute path"),
    case("rs-peers-dir-traversal", "        peersDir: /etc/bird/peers.d", "        peersDir: /etc/bird/../../tmp",
         f"{RS}.peersDir", "contains '..'"),
    case("rs-socket-quote", "        controlSocket: /run/bird/bird.ctl", "        controlSocket: '/run/bird/\"x'",
         f"{RS}.controlSocket", "contains '\"'"),
    case("rs-bird-user-upper", "        birdUser: bird", "        birdUser: BIRD", f"{RS}.birdUser",
         "names are lower case"),
    case("rs-confirm-timeout", "        confirmTimeout: 30", "        confirmTimeout: 1", f"{RS}.confirmTimeout",
         "at least 2"),
    case("rs-limit-action", "        limitAction: restart", "        limitAction: explode", f"{RS}.limitAction",
         "got 'explode'"),
    case("rs-take-over-word", "        takeOverExisting: false", "        takeOverExisting: yes please",
         f"{RS}.takeOverExisting", "expected true or false"),
    # --- base ---------------------------------------------------------------------------------------
    case("base-package-metachar", PKGS, '    packages: [git, "zsh; rm -rf /"]', f"{B}.packages.1",
         "invalid Debian package name"),
    case("base-package-version", PKGS, "    packages: [git, zsh=5.9]", f"{B}.packages.1", "no version"),
    case("base-package-option", PKGS, '    packages: ["-oDebug::pkgProblemResolver=1"]', f"{B}.packages.0",
         "invalid Debian package name"),
    case("base-package-twice", PKGS, "    packages: [git, git]", f"{B}.packages.1", "package git listed twice"),
    case("base-package-twice-apart", PKGS, "    packages: [git, zsh, git]", f"{B}.packages.2", "package git listed twice"),
    case("base-remove-dropped-word", "    removeDropped: false", "    removeDropped: maybe", f"{B}.removeDropped",
         "expected true or false"),
    case("base-kubelogin-relative", "    kubelogin: /usr/local/bin/kubectl-oidc_login", "    kubelogin: kubelogin",
         f"{B}.kubelogin", "is not an absolute path"),
    case("base-file-dirs-too-wide", "    fileDirs: [/etc/profile.d, /etc/skel]", "    fileDirs: [/etc, /etc/skel]",
         f"{B}.fileDirs.0", "/etc is too wide"),
    case("base-file-dirs-second-too-wide", "    fileDirs: [/etc/profile.d, /etc/skel]", "    fileDirs: [/etc/skel, /usr]",
         f"{B}.fileDirs.1", "/usr is too wide"),
    case("base-file-dirs-traversal", "    fileDirs: [/etc/profile.d, /etc/skel]",
         "    fileDirs: [/etc/profile.d/../shadow.d]", f"{B}.fileDirs.0", "contains '..'"),
    case("base-file-outside-dirs", "      - path: /etc/profile.d/keystone.sh", "      - path: /etc/cron.d/keystone",
         f"{BF}.path", "not under any of fileDirs", col="value"),
    case("base-file-prefix-is-not-a-dir", "      - path: /etc/profile.d/keystone.sh",
         "      - path: /etc/profile.d-evil/x.sh", f"{BF}.path", "not under any of fileDirs", col="value"),
    case("base-file-path-twice", "        group: 0", "        group: 0\n      - path: \"/etc/profile.d/keystone.sh\"\n"
         "        template: again", "keystone:base.files.1.path", "file path /etc/profile.d/keystone.sh listed twice",
         '      - path: "/etc/profile.d/keystone.sh"', col="value"),
    case("base-file-source-and-template", FILE_TEMPLATE, FILE_TEMPLATE + "\n        source: workstation/base/profile.sh",
         f"{BF}.source", "exactly one of source and template", "        source:", col="value"),
    case("base-file-neither-source-nor-template", FILE_TEMPLATE, "", f"{BF}.path", "exactly one of source and template",
         "      - path: /etc/profile.d/keystone.sh", col="value"),
    case("base-file-source-traversal", FILE_TEMPLATE, "        source: ../../etc/shadow", f"{BF}.source",
         "source '../../etc/shadow' contains '..' (it must stay inside the project", col="value"),
    case("base-file-source-missing", FILE_TEMPLATE, "        source: workstation/base/missing.sh", f"{BF}.source",
         "source workstation/base/missing.sh does not exist in the project", col="value"),
    case("base-file-source-absolute", FILE_TEMPLATE, "        source: /etc/shadow", f"{BF}.source",
         "source '/etc/shadow' is not relative to the project", col="value"),
    case("base-file-source-space", FILE_TEMPLATE, '        source: "workstation/base/my profile.sh"', f"{BF}.source",
         "contains ' '", col="value"),
    case("base-file-template-unknown-variable", FILE_TEMPLATE, '        template: "{{ user }}"', f"{BF}.template",
         "template error", col="value"),
    case("base-file-template-huge-center", FILE_TEMPLATE, "        template: '{{ stack|center(300000000) }}'",
         f"{BF}.template", "a width or count of 300000000 is too large", col="value"),
    case("base-file-mode", '        mode: "0444"', '        mode: "0999"', f"{BF}.mode", "not an octal mode"),
    case("base-file-owner-negative", "        owner: 0", "        owner: -1", f"{BF}.owner", "at least 0"),
    case("base-file-group-bool", "        group: 0", "        group: true", f"{BF}.group", "expected a whole number"),
    case("base-budget-memory-fraction", BUDGET, "      default: {memoryMax: 1.5G, cpuWeight: 100, tasksMax: 4096}",
         f"{BB}.default.memoryMax", "not a memory size"),
    case("base-budget-memory-injection", BUDGET,
         '      default: {memoryMax: "8G\\nExecStartPre=/bin/sh", cpuWeight: 100, tasksMax: 4096}',
         f"{BB}.default.memoryMax", "not a memory size"),
    case("base-budget-cpu-weight-zero", BUDGET, "      default: {memoryMax: 8G, cpuWeight: 0, tasksMax: 4096}",
         f"{BB}.default.cpuWeight", "not a CPU weight"),
    case("base-budget-tasks-word", BUDGET, "      default: {memoryMax: 8G, cpuWeight: 100, tasksMax: lots}",
         f"{BB}.default.tasksMax", "not a task limit"),
    case("base-budget-unknown-tier", "        admin: {memoryMax: 16G}", "        wizard: {memoryMax: 16G}",
         f"{BB}.tiers.wizard.[key]", "got 'wizard'"),
    case("base-max-active-zero", "      maxActivePeople: 40", "      maxActivePeople: 0", f"{BB}.maxActivePeople",
         "at least 1"),
    case("base-swap-word", "      swap: reported", "      swap: maybe", f"{BB}.swap", "got 'maybe'"),
    case("base-backup-schedule", "      schedule: hourly", '      schedule: "every tuesday"',
         "keystone:base.backups.schedule", "not a schedule"),
    case("base-backup-keep-zero", "      keep: 48", "      keep: 0", "keystone:base.backups.keep", "at least 1"),
    case("base-backup-parent-absolute", "      backupParent: rpool/backup/home", "      backupParent: /rpool/backup",
         "keystone:base.backups.backupParent", "dataset"),
    case("base-backup-max-age-unit", "      maxAgeHours: 3", "      maxAgeHours: 3h",
         "keystone:base.backups.maxAgeHours", "expected a whole number"),
]


CASES += hostile_settings.CASES
"""The workstation and Kubernetes blocks' hostile values (``tests/harness/hostile_settings.py``)."""


@pytest.fixture(autouse=True)
def project(tmp_path):
    """The stack's project: the template units its workstation block names."""
    hostile_settings.install(tmp_path)
    return tmp_path


def _edit(c: Case) -> tuple[str, int, int | None]:
    """The edited stack file, the 1-based line the issue must point at, and its column (None: any)."""
    lines = BASE.splitlines()
    old = c.old.splitlines()
    starts = [i for i in range(len(lines)) if lines[i:i + len(old)] == old]
    assert len(starts) == 1, f"{c.old!r} must be exactly one place of BASE"
    index = starts[0]
    lines[index: index + len(old)] = c.new.splitlines()
    text = "\n".join(lines) + "\n"
    line = index + 1
    if c.anchor is not None:
        hits = [n for n, text_line in enumerate(lines, 1) if text_line.startswith(c.anchor)]
        assert hits, f"anchor {c.anchor!r} must start a line of the edited file"
        line = hits[0]  # the first one
    return text, line, column(lines[line - 1], c.col) if c.col else None


def test_base_is_valid(tmp_path):
    f = tmp_path / "Pulumi.hostile.yaml"
    f.write_text(BASE)
    s = load_settings(f)
    assert [h.name for h in s.hosts] == ["ws1", "ws2"] and s.peering.route_servers[0].name == "rs1"


def test_the_corpus_covers_every_settings_field():
    """Every key of every settings model (the peering models included) is the target of a case."""
    targeted = " ".join(c.values[0].key + " " + c.values[0].new for c in CASES)
    missing = []

    def fields(model, seen=()):
        for name, f in model.model_fields.items():
            key = f.alias or name
            yield key
            inner = f.annotation
            for _ in range(3):
                args = [a for a in getattr(inner, "__args__", ()) if a is not type(None)]
                if isinstance(inner, type) or not args:
                    break
                inner = args[0]
            if isinstance(inner, type) and hasattr(inner, "model_fields") and inner not in seen:
                yield from fields(inner, seen + (inner,))

    for key in set(fields(StackSettings)):
        if key not in targeted and key not in OUT_OF_CORPUS:
            missing.append(key)
    assert not missing, f"no hostile case for: {sorted(missing)}"
    assert len(CASES) >= 60 and len({c.values[0].id for c in CASES}) == len(CASES)


OUT_OF_CORPUS = {
    # (booleans of the peering block, each a StrictBool like the ones above; the route server's
    # group shares the check of its birdUser sibling)
    "allowPrivateAsns", "deleteOnRemove", "allowEmptyPeerSet", "birdGroup",
    "minLengthV4", "maxLengthV6", "minLengthV6", "insecure",
}


@pytest.mark.parametrize("case", CASES)
def test_hostile_setting_is_reported_at_its_line(case: Case, tmp_path):
    text, line, col = _edit(case)
    f = tmp_path / "Pulumi.hostile.yaml"
    f.write_text(text)
    with pytest.raises(SettingsError) as caught:
        load_settings(f)
    issues = caught.value.issues
    ours = [i for i in issues if f": {case.key}: " in i and case.fragment in i]
    assert ours, f"no issue for {case.key} mentioning {case.fragment!r}; got:\n" + "\n".join(issues)
    where = f"Pulumi.hostile.yaml:{line}:" + (f"{col}:" if col else "")
    assert any(i.startswith(where) for i in ours), f"expected {where}; got:\n" + "\n".join(issues)
    for issue in issues:  # clean lines for an admin, never a secret
        assert "\n" not in issue and "Traceback" not in issue and "pydantic.dev" not in issue
        assert issue.startswith("Pulumi.hostile.yaml"), issue
        assert "hunter2" not in issue and "AAABAKsecret" not in issue


def test_every_problem_is_reported_at_once(tmp_path):
    """Many bad values in one file: each one of them is in the one error."""
    text = BASE
    picked = [c.values[0] for c in CASES if c.values[0].id in (
        "user-semicolon", "mountpoint-relative", "identity-traversal", "rs-user-metachar", "lans-number",
        "organization-space", "home-parent-space")]
    for c in picked:
        text = text.replace(c.old + "\n", c.new + "\n", 1)
    f = tmp_path / "Pulumi.hostile.yaml"
    f.write_text(text)
    with pytest.raises(SettingsError) as caught:
        load_settings(f)
    text = "\n".join(caught.value.issues)
    for c in picked:
        assert f": {c.key}: " in text and c.fragment in text, text
    lines = [int(i.split(":")[1]) for i in caught.value.issues]
    assert lines == sorted(lines)  # in file order


def test_the_issue_examples_are_refused_when_the_settings_load(tmp_path):
    """The values issue 15 found accepted: an SSH user with spaces, ';' or a leading '-', and a home
    mountpoint that is relative, carries '; id' or '..', or is empty."""
    for user in ('""', '"a b"', '"root;id"', '"-oProxyCommand=x"'):
        for mountpoint in ("home", '"/home; id"', "/home/../etc", '""'):
            f = tmp_path / "Pulumi.hostile.yaml"
            f.write_text(BASE.replace("      user: keystone", f"      user: {user}")
                         .replace("    homeMountpoint: /home", f"    homeMountpoint: {mountpoint}"))
            with pytest.raises(SettingsError) as caught:
                load_settings(f)
            text = "\n".join(caught.value.issues)
            assert "Pulumi.hostile.yaml:8:" in text and f": {H0}.user: " in text
            assert "Pulumi.hostile.yaml:19:" in text and ": keystone:zfs.homeMountpoint: " in text


def test_a_billion_laughs_stack_file_is_refused_at_its_line(tmp_path):
    """Pulumi reads the stack file with aliases, so Keystone follows them too — within a bound: this
    file would expand to 9**9 values; it is refused at the alias that expands most, without expanding."""
    lols = ", ".join(["lol"] * 9)
    bomb = (f"  keystone:lol0: &a [{lols}]\n"
            + "".join(f"  keystone:lol{n}: &{c} [{', '.join(['*' + p] * 9)}]\n"
                      for n, (p, c) in enumerate(zip("abcdefgh", "bcdefghi"), 1)))
    f = tmp_path / "Pulumi.hostile.yaml"
    f.write_text(BASE.replace("config:\n", "config:\n" + bomb, 1))
    started = time.perf_counter()
    with pytest.raises(SettingsError) as caught:
        load_settings(f)
    elapsed = time.perf_counter() - started
    (issue,) = caught.value.issues
    assert issue.startswith("Pulumi.hostile.yaml:10:22: ") and "aliases expand to" in issue, issue
    print(f"billion laughs refused in {elapsed * 1000:.1f} ms")
