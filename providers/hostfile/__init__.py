"""``host:ManagedFile``: one file on one host (content, owner, mode, atomic write; seeded files only if absent)."""
