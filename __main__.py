"""Keystone: the roster (who) + the stack settings (where) -> accounts, homes, delegations,
Authentik membership, Kubernetes RBAC and peerings.  See README.md."""
from components.collector import pause_for_program

pause_for_program()  # before anything else: see components/collector.py

from components.stack import main  # noqa: E402

main()
