"""Workstation: each person's own service instances (sticky ports), derived maps and workspace."""
