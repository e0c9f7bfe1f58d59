"""File paths, modes and POSIX names have one definition: the stack settings and the providers that
write files or run commands read the same rules."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from providers.bird import models as bird
from providers.hostfile.plan import FileInputs
from providers.host import HostTarget
from providers.zfs.plan import DatasetInputs
from roster.fields import USERNAME_PATTERN
from settings.workstation import MapSettings
from validators import Invalid, POSIX_NAME, files, password

HOST = HostTarget(name="h", address="local")


@pytest.mark.parametrize(("mode", "expected"), [("644", "0644"), ("0600", "0600"), ("0777", "0777")])
def test_modes(mode, expected):
    assert files.file_mode(mode) == expected
    assert FileInputs(host=HOST, path="/etc/x", content="", mode=mode).mode == expected
    if not int(expected, 8) & 0o022:  # a map is never group- or world-writable
        assert MapSettings(path="/etc/keystone/x", service="s", mode=mode).mode == expected


@pytest.mark.parametrize("mode", ["0800", "64", "06444", "rw-r--r--", "", "0o644"])
def test_bad_modes_are_refused_by_every_reader(mode):
    with pytest.raises(Invalid):
        files.file_mode(mode)
    for build in (lambda: FileInputs(host=HOST, path="/etc/x", content="", mode=mode),
                  lambda: MapSettings(path="/etc/keystone/x", service="s", mode=mode),
                  lambda: DatasetInputs(host=HOST, dataset="p/h/a", owner="a", owner_uid=1, owner_gid=1, mode=mode)):
        with pytest.raises(ValidationError):
            build()


@pytest.mark.parametrize("path", ["etc/x", "/etc/../x", "/etc//x", "/etc/x/", "/etc/./x", "/etc/x\n", "/etc/\0x"])
def test_host_file_paths(path):
    with pytest.raises(Invalid):
        files.host_file_path(path)
    with pytest.raises(ValidationError):
        FileInputs(host=HOST, path=path, content="")
    with pytest.raises(ValidationError):
        MapSettings(path=path.replace("/etc/", "/etc/keystone/"), service="s")


@pytest.mark.parametrize("path", ["code", ".config/k/x.sh"])
def test_home_paths(path):
    assert files.home_file(path) == path


@pytest.mark.parametrize("path", ["", "/etc/x", "../x", "a/../../x", ".", "a/./b", "a\nb"])
def test_home_paths_refused(path):
    with pytest.raises(Invalid):
        files.home_file(path)


def test_one_posix_name():
    assert USERNAME_PATTERN == f"^{POSIX_NAME.pattern}$"  # the roster's schema hint is the rule's own pattern


@pytest.mark.parametrize("name", ["alice", "_svc", "a-b_c9", "a" * 32, "a" * 33, "Alice", "-x", "9lives", "a.b",
                                  "root", "bird", "keystone", "systemd-x", "nobody", "", "al ice"])
def test_one_rule_for_user_and_group_names(name):
    """The roster, the settings, the providers and the policy pack accept the same user names (a
    person's: never one the system keeps) and the same group names."""
    from pydantic import TypeAdapter

    from policy.rules.accounts import validate_lifecycle
    from providers.accounts.plan import AccountInputs
    from providers.workstation.plan import InstanceInputs
    from roster.fields import GroupName, Username, is_valid_username
    from settings.workstation import GroupName as SettingsGroup
    from validators import person_name, posix_name

    def accepts(build) -> bool:
        try:
            build()
        except (Invalid, ValidationError):
            return False
        return True

    person = accepts(lambda: person_name(name))
    readers = {
        "roster": accepts(lambda: TypeAdapter(Username).validate_python(name)),
        "roster key": is_valid_username(name),
        "os:Account": accepts(lambda: AccountInputs(host=HOST, username=name, uid=20001, home="/home/a")),
        "zfs:Dataset": accepts(lambda: DatasetInputs(host=HOST, dataset="p/h/a", owner=name, owner_uid=1, owner_gid=1)),
        "workstation": accepts(lambda: InstanceInputs(host=HOST, service="s", unit="u", user=name, uid=20001, port=20000,
                                                              environment="")),
    }
    from types import SimpleNamespace

    from policy import contract as c

    violations: list[str] = []
    props = {"username": name, "uid": 20001, "ensure": "present", "person_state": "active", "tier": "admin"}
    validate_lifecycle(SimpleNamespace(resource_type=c.OS_ACCOUNT, props=props), lambda m, *_: violations.append(m))
    readers["policy"] = not any("login name" in v for v in violations)
    assert readers == dict.fromkeys(readers, person), readers
    group = accepts(lambda: posix_name(name))
    assert (accepts(lambda: TypeAdapter(SettingsGroup).validate_python(name))
            == accepts(lambda: bird.RouteServer(name="rs", target=HOST, asn=64500, router_id="192.0.2.1", bird_user=name))
            == accepts(lambda: AccountInputs(host=HOST, username="alice", uid=20001, home="/home/a", groups=[name]))
            == (accepts(lambda: TypeAdapter(GroupName).validate_python(name)) or name == "root")
            == group)
    assert person <= group


@pytest.mark.parametrize("value", ["$6$saltsalt$" + "a" * 86, "$6$rounds=5000$abc$" + "b" * 86,
                                   "$y$j9T$F5Jx5fExrKuPp53xLKQ..1$zwtVrjrUCmXcyLTs6oxLTQlzifSUkF8RHJ./tK5KU79",
                                   "hunter2", "!", "$1$saltsalt$qjXMvbEw8oaL.CzflDugX/", "$6$rounds=10$abc$" + "b" * 86,
                                   "$6$saltsalt$" + "a" * 86 + "\n", "$y$j9T$salt$short"])
def test_one_rule_for_password_hashes(value):
    """The roster, the accounts provider and the policy pack accept the same hashes."""
    from pydantic import TypeAdapter

    from policy.rules.accounts import is_crypt_hash
    from providers.accounts.plan import AccountInputs
    from roster.fields import PasswordHash

    try:
        TypeAdapter(PasswordHash).validate_python(value)
        roster = True
    except ValidationError:
        roster = False
    try:
        AccountInputs(host=HOST, username="alice", uid=20001, home="/home/alice", password_hash=value)
        provider = True
    except ValidationError:
        provider = False
    assert roster == provider == is_crypt_hash(value) == password.is_hash(value)


@pytest.mark.parametrize(("mode", "why"), [("0666", "group- and world-writable"), ("0602", "world-writable"),
                                            ("0620", "group-writable"), ("777", "group- and world-writable")])
def test_safe_modes_refuse_writable_by_others(mode, why):
    with pytest.raises(Invalid, match=why):
        files.safe_mode(mode)
    assert files.safe_mode("644") == "0644" and files.safe_mode("0400") == "0400"


@pytest.mark.parametrize(("path", "why"), [
    ("/etc/passwd", "outside /etc/keystone/"), ("/etc/keystone", "outside"), ("/etc/keystoneX/a", "outside"),
    ("/etc/keystone/workstation/u/a.env", "files of its own"), ("/etc/keystone/../x", "'..'"),
    ("/etc/keystone/a b", "' '"), ("/etc/keystone/\u0430", "'\u0430'"), (f"/etc/keystone/{'x' * 256}", "256 bytes"),
])
def test_owned_paths(path, why):
    with pytest.raises(Invalid, match=why):
        files.owned_path(path)
    assert files.owned_path("/etc/keystone/maps/web.map") == "/etc/keystone/maps/web.map"


@pytest.mark.parametrize(("path", "why"), [
    ("", "empty"), ("/x", "not relative"), ("~/x", "not relative"), ("$HOME/x", "'\\$'"), ("a/../b", "'..'"),
    ("a//b", "not normalised"), ("a/", "not normalised"), ("./a", "not normalised"), ("a b", "' '"),
    (".ssh/authorized_keys", "belongs to sshd"), (".ssh", "holds"), ("\u0430", "'\u0430'"), ("x" * 256, "256 bytes"),
])
def test_home_files(path, why):
    with pytest.raises(Invalid, match=why):
        files.home_file(path)
    with pytest.raises(Invalid, match="a file Keystone writes"):
        files.home_file(".kube", reserved=(".kube/config",))
    assert files.home_file(".config/app/x.conf") == ".config/app/x.conf" and files.home_file(".ssh/config")


def test_relative_paths_name_their_directory():
    """The rule of a path below a directory; only ``home_file`` reserves sshd's paths."""
    with pytest.raises(Invalid, match="must stay inside the project"):
        files.relative_path("units/../../etc", "unitFile", inside="the project", example="workstation/units")
    assert files.relative_path(".ssh/authorized_keys") == ".ssh/authorized_keys"


@pytest.mark.parametrize("path", ["/etc/bird", "/run/bird/bird.ctl", "/a+b", "/a b", "/", "//etc", "/etc/./x",
                                  "/etc/../x", "etc", "/etc/x/", "/etc/$x", "/etc/\u0430", "/x\n", ""])
def test_one_rule_for_absolute_paths(path):
    """The BIRD models (and the peer files a route server is read for), the accounts provider, the
    stack settings and a host file's path read absolute paths by ``validators.absolute_path``; a
    host file takes any name but newline and NUL."""
    from pydantic import TypeAdapter

    from providers.accounts.plan import AccountInputs
    from providers.bird.plan import _plain
    from settings.fields import KeyFile
    from validators import absolute_path

    def accepts(build) -> bool:
        try:
            build()
        except (Invalid, ValidationError, ValueError):
            return False
        return True

    plain = accepts(lambda: absolute_path(path))
    readers = {
        "bird": accepts(lambda: bird.check_path(path)),
        "bird peer file": _plain(path),
        "os:Account home": accepts(lambda: AccountInputs(host=HOST, username="alice", uid=20001, home=path)),
        "os:Account shell": accepts(lambda: AccountInputs(host=HOST, username="alice", uid=20001, home="/h", shell=path)),
        "settings key file": accepts(lambda: TypeAdapter(KeyFile).validate_python(path)),
    }
    assert readers == dict.fromkeys(readers, plain), readers
    any_name = accepts(lambda: files.host_file_path(path))
    assert any_name == accepts(lambda: FileInputs(host=HOST, path=path, content=""))
    assert any_name == (plain or path in ("/a+b", "/a b", "/etc/$x", "/etc/\u0430"))


def test_one_cap_for_import_limits():
    """The roster and the BIRD peer model cap a peer's import limits at ``validators.peering.MAX_PREFIXES``."""
    from roster import MaxPrefixes as RosterLimits
    from validators.peering import MAX_PREFIXES

    top = {"ipv4": MAX_PREFIXES[4], "ipv6": MAX_PREFIXES[6]}
    assert RosterLimits(**top).model_dump() == bird.MaxPrefixes(**top).model_dump() == top
    for family in top:
        over = {**top, family: top[family] + 1}
        with pytest.raises(ValidationError):
            RosterLimits(**over)
        with pytest.raises(ValidationError):
            bird.MaxPrefixes(**over)
