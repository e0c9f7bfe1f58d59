"""Entry point of the Keystone policy pack: ``pulumi preview --policy-pack policy``.

The CLI runs ``python -u -m pulumi.policy <engine> .`` in this directory (with the virtualenv named
in PulumiPolicy.yaml), which executes this file with ``policy/`` as ``sys.path[0]``. The rules are
imported as the ``policy`` package, so the repository root goes on ``sys.path`` first.
"""
import pathlib
import sys

_ROOT = str(pathlib.Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from pulumi_policy import PolicyPack  # noqa: E402

from policy.contract import POLICY_PACK_NAME  # noqa: E402
from policy.rules import DEFAULT_ENFORCEMENT_LEVEL, POLICIES  # noqa: E402

PolicyPack(
    name=POLICY_PACK_NAME,
    policies=POLICIES,
    enforcement_level=DEFAULT_ENFORCEMENT_LEVEL,
    description="Keystone: accounts, ZFS homes and delegations, BIRD/ZeroTier peering, Kubernetes RBAC, Authentik gate.",
)
