"""A dynamic provider that does nothing, for the SDK floor of ``bench.program_eval`` and the engine's
floor (``bench/engine_floor``) (importable, so the SDK pickles it by reference exactly as it pickles
Keystone's providers).  A create makes nothing and echoes its inputs as outputs (as Keystone's
resources record theirs), so the floor's state is the size of the real one; an update likewise changes
nothing and echoes its new inputs (the diff is left to the engine: it compares the inputs)."""
from pulumi.dynamic import CreateResult, ResourceProvider, UpdateResult


class NoOp(ResourceProvider):
    def create(self, props):
        return CreateResult(id_="floor", outs=props)

    def update(self, _id, _olds, news):
        return UpdateResult(outs=news)
