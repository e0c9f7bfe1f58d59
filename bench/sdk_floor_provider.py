"""A dynamic provider that does nothing, for the SDK floor of ``bench.program_eval`` (importable, so the
SDK pickles it by reference exactly as it pickles Keystone's providers)."""
from pulumi.dynamic import ResourceProvider


class NoOp(ResourceProvider):
    pass
