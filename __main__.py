"""Keystone: the roster (who) + the stack settings (where) -> accounts, homes, delegations,
Authentik membership, Kubernetes RBAC and peerings.  See README.md."""
from components.stack import main

main()
