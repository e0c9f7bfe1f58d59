"""How ``python -m engine`` places the program (engine/host.py) and names the stack it asks the
history about (engine/__main__.py); the real CLI's requests are the engine tier's
(tests/engine/test_project_dir.py)."""
from __future__ import annotations

from pulumi.runtime.proto import language_pb2

from engine.__main__ import PARALLEL, target_flags, with_parallel
from engine.host import program_location


def test_the_program_runs_in_the_request_s_pwd_and_program_directory():
    info = language_pb2.ProgramInfo(root_directory="/srv/ks", program_directory="/srv/ks/app", entry_point=".")
    assert program_location(language_pb2.RunRequest(pwd="/srv/ks", info=info), "/elsewhere") == ("/srv/ks", "/srv/ks/app")
    assert program_location(language_pb2.RunRequest(pwd="/srv/ks", program="."), "/elsewhere") == ("/srv/ks", "/srv/ks")
    assert program_location(language_pb2.RunRequest(pwd="/srv/ks", program="sub"), "/x") == ("/srv/ks", "/srv/ks/sub")
    assert program_location(language_pb2.RunRequest(), "/fallback") == ("/fallback", "/fallback")


def test_target_flags_name_the_same_stack_and_project():
    assert target_flags(["--stack", "dev", "--yes", "-C", "/p"]) == ["--stack", "dev", "--cwd", "/p"]
    assert target_flags(["--stack=prod", "--cwd=/q", "--diff"]) == ["--stack", "prod", "--cwd", "/q"]
    assert target_flags(["-s", "staging"]) == ["--stack", "staging"]
    assert target_flags(["--yes"]) == []


def test_a_diy_backend_s_next_update_counts_the_whole_history(monkeypatch):
    """The CLI lists only the newest 10 updates unless asked for ``--page-size 0``: a DIY backend (version
    0 everywhere) past 10 updates must still get the next number."""
    import json
    import subprocess

    from engine import __main__ as engine_main

    diy = [{"version": 0, "kind": "update"} for _ in range(12)]
    asked = []

    def fake_run(argv, **_kw):
        asked.append(argv)
        size = argv[argv.index("--page-size") + 1] if "--page-size" in argv else "10"
        shown = diy if size == "0" else diy[:int(size)]
        return subprocess.CompletedProcess(argv, 0, json.dumps(shown), "")

    monkeypatch.setattr(engine_main.subprocess, "run", fake_run)
    assert engine_main.next_update("pulumi", ["up", "--stack", "dev"], "/p", {}) == "13"
    assert [a[a.index("--page-size") + 1] for a in asked] == ["1", "0"]


def test_program_commands_run_many_steps_at_once_unless_told():
    assert with_parallel(["up", "--yes"]) == ["up", "--yes", f"--parallel={PARALLEL}"]
    assert with_parallel(["refresh"])[-1] == f"--parallel={PARALLEL}"
    for given in (["-p", "1"], ["--parallel", "4"], ["--parallel=4"], ["-p4"]):
        assert with_parallel(["up", *given]) == ["up", *given]
    assert with_parallel(["stack", "export"]) == ["stack", "export"]
