"""The host's one gather with the base (``providers/hostbase/declaration.py``, ``declared.sh``): what the
declaration names is read in the first ``Read``'s round trip and answers the account, dataset, file and
base reads that follow; a cut or garbled answer is an error, never an empty (no drift) one.

``declared.sh`` runs here on this machine's ``sh`` with a declaration, files and a budget glob of a
temporary directory, stand-ins for the ZFS read and the base gather (they print fixed sections)."""
from __future__ import annotations

import subprocess

import pytest

from providers.host import Command, HostTarget, Result
from providers.hostbase import declaration
from providers.hostbase.declaration import Declaration, DeclarationError, parse_declaration
from providers.hostbase.plan import BaseInputs, plan_declaration
from providers.hostfile.plan import READ, ReadError, parse_read
from providers.hostbase import facet as base_facet
from providers.hoststate import (
    HostState, Scope, base_scope, gather_scope, parse_host_state, read_commands, root_file_scope,
)

HOST = HostTarget(name="ws1", address="local")
FAKE_ZFS = """echo "@@root /home rpool/crypt/home"; echo @@get
printf 'rpool/crypt/home\\ttype\\tfilesystem\\t-\\nrpool/crypt/home\\tmountpoint\\t/home\\tlocal\\n'
echo @@mounts; printf 'rpool/crypt/home\\t/home\\n'; echo @@stat; echo @@allow; echo "args: $*" >&2
"""
FAKE_GATHER = """printf '@@now\\n1700000000\\n@@swap\\n0\\n@@dpkg\\n'
for p in "$@"; do case $p in git) printf 'git\\tii\\n' ;; esac; done
printf '@@policy\\n@@lists\\n1\\t1\\n@@kubelogin\\n%s\\n@@timer\\nactive\\tenabled\\n@@snapshots\\n' "$1"
"""


def decl(tmp_path, **over) -> Declaration:
    values = dict(kubelogin=str(tmp_path / "kubelogin"), timer="keystone-backup.timer",
                  backup=("rpool/crypt/home", "rpool/crypt/backup"), tree="rpool/crypt/home",
                  packages=("git", "zsh"), files=(str(tmp_path / "etc/profile.d/keystone.sh"), str(tmp_path / "nope")))
    return Declaration(**{**values, **over})


def run_declared(tmp_path, d: Declaration | None, zfs: str | None = FAKE_ZFS) -> tuple[Command, str]:
    path = tmp_path / "base.read"
    if d is not None:
        path.write_text(d.render())
    glob = str(tmp_path / "user-*.slice.d" / "keystone.conf")
    argv = ("sh", "-c", declaration.DECLARED, "keystone-declared", str(path), glob, zfs or "-", READ, FAKE_GATHER)
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    return Command.of(*argv, check=False), out


@pytest.fixture
def host_files(tmp_path):
    (tmp_path / "etc/profile.d").mkdir(parents=True)
    (tmp_path / "etc/profile.d/keystone.sh").write_text("export A=1\n")
    (tmp_path / "user-1000.slice.d").mkdir()
    (tmp_path / "user-1000.slice.d/keystone.conf").write_text("[Slice]\nMemoryMax=1G\n")
    return tmp_path


def test_the_declaration_is_read_back_as_written(tmp_path):
    d = decl(tmp_path)
    assert parse_declaration(d.render()) == d
    assert parse_declaration("") is None
    assert d.gather_args() == (str(tmp_path / "kubelogin"), "keystone-backup.timer", "rpool/crypt/home",
                               "rpool/crypt/backup", "git", "zsh")
    with pytest.raises(DeclarationError, match="cannot be declared"):
        Declaration(kubelogin="/a b").render()
    with pytest.raises(DeclarationError, match="unexpected line"):
        parse_declaration("packages git\n", "ws1")


def test_the_declared_read_answers_every_resource_of_the_host(host_files):
    d = decl(host_files)
    command, out = run_declared(host_files, d)
    state = parse_host_state([Result(command, 0, out, "")], "ws1")
    have = Scope(declared=True)
    budget = str(host_files / "user-1000.slice.d/keystone.conf")
    assert state.files[str(host_files / "etc/profile.d/keystone.sh")].kind == "file"
    assert state.files[str(host_files / "nope")].kind == "absent" and state.files[budget].kind == "file"
    assert state.base is not None and state.base.installed == {"git"} and state.base.timer_running
    assert state.declared_roots == {"rpool/crypt/home"} and state.roots == {"/home": "rpool/crypt/home"}
    # a budget of someone else (the glob read every match: it is absent), a declared file, the base
    # asked with the declared arguments (or fewer packages), a home tree inside the declared one
    for want in (Scope(root_files=(str(host_files / "user-2000.slice.d/keystone.conf"),)),
                 Scope(root_files=(str(host_files / "nope"),)), Scope(base=d.gather_args()),
                 Scope(base=d.gather_args()[:5]), Scope(zfs_roots=("rpool/crypt/home",), tree_allows=True),
                 Scope(mount_dirs=("/home",), tree_allows=True)):
        assert have.covers(want, state), want
    # what it did not read: an undeclared file, the base with another kubelogin or another package
    for want in (Scope(root_files=(str(host_files / "etc/skel/.profile"),)),
                 Scope(base=("/other", *d.gather_args()[1:])), Scope(base=(*d.gather_args(), "vim")),
                 Scope(zfs_roots=("rpool/other",))):
        assert not have.covers(want, state), want


def test_without_a_declaration_only_the_budgets_are_read(host_files):
    command, out = run_declared(host_files, None)
    state = parse_host_state([Result(command, 0, out, "")], "ws1")
    assert state.base is None and state.declared_roots == set()
    assert set(state.files) == {str(host_files / "user-1000.slice.d/keystone.conf")}
    assert not Scope(declared=True).covers(Scope(base=("-", "-", "-", "-")), state)


def parse_declared_read(text: str) -> None:
    """The declared read's answer (glob ``/x*``, the home tree asked for) parsed into a new state."""
    state = HostState()
    argv = ("sh", "-c", declaration.DECLARED, "keystone-declared", declaration.PATH, "/x*", "zfs")
    base_facet.parse_declared(argv, text, state, state, state, "ws1")


def test_a_cut_or_garbled_answer_is_an_error(host_files):
    _, out = run_declared(host_files, decl(host_files))
    for broken, why in ((out.replace("@@end\n", ""), "did not end"),
                        (out.replace("@@part files\n", ""), "parts"),
                        (out.replace("@@part base\n", "@@part base\n@@part base\n"), "parts")):
        with pytest.raises(DeclarationError, match=why):
            parse_declared_read(broken)
    declared_file = str(host_files / "etc/profile.d/keystone.sh")
    [line] = [x for x in out.split("\n") if x.startswith("file ") and x.count(" ") > 2 and x.endswith(declared_file)]
    with pytest.raises(ReadError, match="no answer for"):  # a declared file without its line
        parse_declared_read(out.replace(line + "\n", ""))
    with pytest.raises(ReadError, match="unexpected line"):
        parse_declared_read(out.replace(line, line.replace("file ", "file zz")))
    with pytest.raises(Exception, match="ws1"):  # the base gather cut short: its parser's error
        parse_declared_read(out.replace("@@snapshots\n", ""))


def test_a_file_read_without_the_line_asked_for_is_an_error_not_an_absent_file():
    assert parse_read("absent /etc/x\n", ["/etc/x"])["/etc/x"].kind == "absent"
    with pytest.raises(ReadError, match="no answer for /etc/x"):
        parse_read("", ["/etc/x"], "ws1")
    with pytest.raises(ReadError, match="unexpected line"):
        parse_read("file abc 644 0:0 /etc/x\n", ["/etc/x"])


def test_every_read_of_a_refresh_asks_for_the_declared_gather():
    """Whichever comes first reads what the declaration names; only one asks ZFS by name at a time."""
    for want in (gather_scope(mount_dirs=("/home",)), root_file_scope("/etc/profile.d/x.sh"),
                 base_scope(("-", "-", "-", "-", "git"))):
        assert want.declared and want.users is None
        [declared] = [c for c in read_commands(want) if c.argv[2] == declaration.DECLARED]
        assert (declared.argv[6] == "-") == bool(want.mount_dirs)  # the tree: read by name or by the declaration


def test_the_base_writes_its_declaration_when_it_differs():
    desired = BaseInputs(host=HOST, packages=["git"], kubelogin="/usr/local/bin/kubectl-oidc_login",
                         home_parent="rpool/crypt/home", files=["/etc/profile.d/keystone.sh"])
    [write] = plan_declaration(desired, ["zsh"], {})
    assert write.argv[4] == declaration.PATH and write.stdin == (
        "kubelogin /usr/local/bin/kubectl-oidc_login\ntree rpool/crypt/home\npackage git\npackage zsh\n"
        "file /etc/profile.d/keystone.sh\n")
    same = parse_read(f"file {_sha(write.stdin)} 644 0:0 {declaration.PATH}\n", [declaration.PATH])
    assert plan_declaration(desired, ["zsh"], same) == []
    assert [c.argv[:3] for c in plan_declaration(desired, [], same, ensure="absent")] == [("rm", "-f", "--")]


def _sha(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()


def test_a_refresh_marks_a_missing_or_stale_declaration_so_up_writes_it(monkeypatch, tmp_path):
    from providers.hostbase import resource
    from providers.hostbase.facts import parse_gather
    from providers.hostbase.plan import declaration as declaration_of

    desired = BaseInputs(host=HOST, packages=["git"], home_parent="rpool/crypt/home", files=["/etc/profile.d/k.sh"])
    facts = parse_gather("@@now\n1\n@@swap\n0\n@@dpkg\ngit\tii\n@@policy\n@@lists\n1\t1\n@@kubelogin\n-\n@@timer\n"
                         "@@snapshots\n")
    props = {**desired.model_dump(mode="json"), "installed": []}
    for found, marked in ((declaration_of(desired, []), False), (None, True),
                          (declaration_of(desired.model_copy(update={"files": []}), []), True)):
        served = HostState(base=facts, declaration=found)
        monkeypatch.setattr(resource.CACHE, "get", lambda _host, _scope, served=served: served)
        inputs = resource.BaseProvider().read("ws1", props).inputs
        assert (inputs["declaration"] != "current") is marked, found
