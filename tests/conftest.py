"""Shared fixtures.  The real-system fixtures never skip: when the guest or bird cannot run, the
tests that need them error, so CI (CI=true) fails instead of passing without them."""
from __future__ import annotations

import pytest

from providers.host import HostTarget


@pytest.fixture(scope="session")
def guest():
    from guest import vm

    with vm.running(log=lambda m: print(f"[guest] {m}")) as g:
        yield g


@pytest.fixture(scope="session")
def guest_target(guest) -> HostTarget:
    return HostTarget(**guest.target_fields("guest"))


@pytest.fixture
def provider_host():
    from tests.harness.provider_host import DynamicProviderHost

    with DynamicProviderHost() as host:
        yield host


@pytest.fixture
def authentik_server():
    """An Authentik test server held to Authentik's published schema: a request or response outside it
    fails the test that caused it (``tests/harness/authentik_server.py``)."""
    from tests.harness.authentik_server import AuthentikServer

    server = AuthentikServer().start()
    try:
        yield server
    finally:
        server.stop()
    assert not server.violations, "outside Authentik's schema:\n" + "\n".join(server.violations)
