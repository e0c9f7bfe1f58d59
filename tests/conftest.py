"""Shared fixtures.  The real-system fixtures never skip: when the guest or bird cannot run, the
tests that need them error, so CI (CI=true) fails instead of passing without them."""
from __future__ import annotations

import pytest

from providers.transport import HostTarget


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
