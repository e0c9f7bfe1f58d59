"""Test doubles of external systems (faithful to recorded behaviour; see each module's docstring)."""
