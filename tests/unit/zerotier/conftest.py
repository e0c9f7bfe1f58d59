"""The ZeroTier controller double's fixtures, for the client and double tests in this directory."""
from tests.fakes.zerotier_controller import central_controller, controller, controller_factory  # noqa: F401
