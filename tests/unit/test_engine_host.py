"""How ``python -m engine`` places the program (engine/host.py) and names the stack it asks the
history about (engine/__main__.py); the real CLI's requests are the engine tier's
(tests/engine/test_project_dir.py)."""
from __future__ import annotations

from pulumi.runtime.proto import language_pb2

from engine.__main__ import target_flags
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
