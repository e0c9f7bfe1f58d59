"""What ``bird:ServerConfig`` and ``bird:PeerFile`` share: both are one file of a route server,
rendered from typed inputs and applied safely (``apply``), and their providers differ only in their
names, the file and what they observe.

``BirdFileProvider``:

* ``check``: ``KeystoneProvider.check`` (which drops the ``OUTPUTS`` each provider declares);
* ``read``: the route server's shared read (``apply.read_route_server``); a file gone is a
  resource gone (the next ``up`` creates it again);
* ``diff``: the inputs that differ (less ``CREATE_ONLY``), a replacement when ``_replaces`` says
  the identity changed, and drift: the file on disk is not what the inputs render, or the daemon
  does not run every protocol the file should give (``_expected`` ⊄ the observed ``RUNNING``
  output).  In a preview with values not known yet, the base class's rule: changes, and a
  replacement when ``_replaces`` (with the old values standing in for the unknown ones) or an
  unknown ``route_server`` says so.
"""
from __future__ import annotations

from typing import Any, ClassVar

from pulumi.dynamic import DiffResult, ReadResult

from providers.base import KeystoneProvider, strip_internal, unknown_keys
from providers.bird import apply, parse, render
from providers.bird.models import RouteServer


def route_server_identity(rs: RouteServer) -> tuple:
    """What makes a route server's files other files: a change here replaces them."""
    return (rs.name, rs.config_dir, rs.peers_dir)


class BirdFileProvider(KeystoneProvider):
    CREATE_ONLY: ClassVar[tuple[str, ...]] = ()
    RUNNING: ClassVar[str]  # the output naming the protocols the daemon runs for this file
    IDENTITY = ("route_server",)  # unknown in a preview: another file, maybe

    @staticmethod
    def _outputs(inp: Any, content: str | None, protocols: dict[str, parse.Protocol],
                 view: apply.ServerView | None = None) -> dict[str, Any]:
        raise NotImplementedError

    def _replaces(self, old: Any, new: Any) -> list[str]:
        """The inputs whose change makes this another file (replaced, the old one deleted first): a
        route server of another name or directories (a new address is the same files)."""
        return ["route_server"] if route_server_identity(old.route_server) != route_server_identity(new.route_server) else []

    def _expected(self, new: Any, content: str) -> set[str]:
        """The protocols the daemon should run for ``content``."""
        raise NotImplementedError

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        inp = self.inputs(props)
        view = apply.read_route_server(inp.route_server)
        content = view.files.get(inp.path)
        if content is None:
            return ReadResult(None, {})  # gone: the next `up` creates it again
        return ReadResult(id_ or inp.id, self._outputs(inp, content, view.protocols, view),
                          inputs=inp.model_dump(mode="json"))

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        if unknown_keys(news):  # a preview with values not known yet: the base class's rule
            return super().diff(id_, olds, news)
        fields = self.Inputs.model_fields
        old = self.Inputs.model_validate({k: v for k, v in olds.items() if k in fields})
        new = self.Inputs.model_validate({k: v for k, v in strip_internal(news).items() if k in fields})
        o, n = old.model_dump(mode="json"), new.model_dump(mode="json")
        changed = [k for k in fields if o.get(k) != n.get(k) and k not in self.CREATE_ONLY]
        replaces = self._replaces(old, new)
        content = new.render()
        drift = olds.get("sha256") != render.sha256(content) or \
            not self._expected(new, content) <= set((olds.get(self.RUNNING) or {}).keys())
        return DiffResult(changes=bool(changed) or drift, replaces=replaces, stables=[],
                          delete_before_replace=bool(replaces))
