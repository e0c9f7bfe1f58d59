"""ZFS home datasets (``zfs:Dataset``) and ``zfs allow`` delegations (``zfs:Delegation``)."""
