"""The ZeroTier controller double's fixtures, for the client and double tests in this directory."""
from tests.harness.zerotier_controller import central_controller, controller, controller_factory  # noqa: F401
