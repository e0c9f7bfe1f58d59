"""Keystone: the roster (who) + the stack settings (where) -> accounts, homes, delegations,
Authentik membership, Kubernetes RBAC and peerings.  See README.md."""
from program.gc_pause import pause_for_program

pause_for_program()  # before anything else: see program/gc_pause.py

from program.stack import main  # noqa: E402

main()
