"""Keystone's Authentik resources: the gate group, each person's membership of it, and the edge gate."""
