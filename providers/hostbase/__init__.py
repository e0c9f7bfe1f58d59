"""The host base: what every host of a stack has (budgets of people's slices, packages, backups)."""
