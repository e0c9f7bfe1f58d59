"""The engine tier: the real Pulumi CLI (scripts/build-engine.sh) runs the real program against the
real guest.  Never skipped: a missing CLI is an error that names the command that installs it, and so is
a missing PostgreSQL (the team backend's tests start their own cluster)."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from engine import paths
from tests.harness import postgres as pg
from tests.harness.engine import Workspace
from tests.harness.peering_lab import PeeringLab, peering_lab
from tests.harness.engine_people import keys  # noqa: F401 (the people's SSH keys: a fixture for every engine test)
from tests.harness.zerotier_controller import controller, controller_factory  # noqa: F401 (fixtures: a started double)


@pytest.fixture
def guest():
    """A fresh guest for each engine test (restored from the saved state, blank pool: ≈12 s): the
    engine tier creates and removes real people, which must not leak into another test or tier."""
    from guest import vm

    with vm.running(log=lambda m: print(f"[guest] {m}")) as g:
        yield g


@pytest.fixture(scope="session")
def engine_cli():
    try:
        return paths.cli()
    except paths.EngineMissing as e:
        pytest.fail(str(e))


@pytest.fixture(scope="session")
def postgres():
    """One throw-away cluster for the session; every team-backend workspace has its own database in it."""
    try:
        with pg.cluster() as cluster:
            yield cluster
    except pg.PostgresMissing as e:
        pytest.fail(str(e))


@pytest.fixture
def workspace(engine_cli, tmp_path, request) -> Workspace:
    """A workspace on the file backend, or (``pg.BACKENDS`` parametrizes it) on a fresh database of
    the session's PostgreSQL cluster, as a team runs it: each stack with its own passphrase."""
    if getattr(request, "param", "file") == "file":
        return Workspace(tmp_path)
    cluster = request.getfixturevalue("postgres")
    return cluster.workspace(tmp_path, passphrases=pg.TEAM_PASSPHRASES)


@pytest.fixture
def lab() -> Iterator[PeeringLab]:
    """Two route servers (bird2 in network namespaces) for the peering tests."""
    with peering_lab(2) as lab:
        yield lab
