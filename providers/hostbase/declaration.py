"""The host's base declaration: what one gather must read so that it answers every resource Keystone
keeps on the host (pure: nothing here runs a command).

``host:Base`` writes it (``PATH``, root, 0644) when it applies: the base gather's arguments (kubelogin,
the backup timer, the home and backup parents, the packages listed and those Keystone installed),
the home tree, and every root-owned managed file of the host except the budget drop-ins (the
machine-wide files, the backup script and units, the workstation's template units and maps), one
``KIND VALUE`` line each.  ``declared.sh`` reads it on the host and runs those reads in the same
process tree — the budget drop-ins found by their glob — so the first ``Read`` of a refresh, whichever
resource it is for, gathers everything the others ask for (``providers.hostbase.facet``: ``BaseScope.declared``).

The declaration is only ever a shortcut: what a resource is served from the gather is what the
gather read (the declaration echoed back); anything it does not cover is read on its own.
"""
from __future__ import annotations

from dataclasses import dataclass

from providers.host import Command
from providers.hostbase import budget
from providers.output import quote
from providers.scripts import script

PATH = "/var/lib/keystone/base.read"
DECLARED = script(__file__, "declared.sh")
GLOB = budget.DROPIN_DIR.format(uid="*") + "/" + budget.DROPIN_NAME  # every budget drop-in of Keystone's
PARTS = ("declaration", "zfs", "files", "base")
KINDS = ("kubelogin", "timer", "backup", "tree", "package", "file")


class DeclarationError(RuntimeError):
    def __init__(self, message: str, host: str | None = None):
        super().__init__(f"host {host}: base declaration: {message}" if host else f"base declaration: {message}")


@dataclass(frozen=True)
class Declaration:
    kubelogin: str | None = None
    timer: str | None = None
    backup: tuple[str, str] | None = None  # home parent, backup parent
    tree: str | None = None  # the home parent: its tree is read with its delegations
    packages: tuple[str, ...] = ()
    files: tuple[str, ...] = ()

    def gather_args(self) -> tuple[str, ...]:
        """The base gather's arguments (``providers/hostbase/gather.sh``)."""
        home, backups = self.backup or ("-", "-")
        return (self.kubelogin or "-", self.timer or "-", home, backups, *self.packages)

    def render(self) -> str:
        """The file's text; a value that would not stay one line, or splits wrongly, is refused."""
        lines = [("kubelogin", self.kubelogin), ("timer", self.timer),
                 ("backup", " ".join(self.backup) if self.backup else None), ("tree", self.tree)]
        lines += [("package", p) for p in self.packages] + [("file", f) for f in self.files]
        out = []
        for kind, value in lines:
            if value is None:
                continue
            if not value or "\n" in value or (kind in ("kubelogin", "timer", "tree", "package") and " " in value):
                raise DeclarationError(f"{kind} {quote(value)} cannot be declared")
            out.append(f"{kind} {value}\n")
        if self.backup and any(" " in v or not v for v in self.backup):
            raise DeclarationError(f"backup {quote(' '.join(self.backup))} cannot be declared")
        return "".join(out)


def parse_declaration(text: str, host: str | None = None) -> Declaration | None:
    """The declaration's text (None: the host has none); ``DeclarationError`` on a line it does not hold."""
    if not text:
        return None
    values: dict[str, str] = {}
    packages, files = [], []
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    for line in lines:
        kind, sep, value = line.partition(" ")
        if kind not in KINDS or not sep or not value:
            raise DeclarationError(f"{PATH}: unexpected line {quote(line)} (Keystone writes this file: remove it; "
                                   "the next refresh marks the base, and `pulumi up` writes it again)", host)
        if kind == "package":
            packages.append(value)
        elif kind == "file":
            files.append(value)
        else:
            values[kind] = value
    backup = None
    if "backup" in values:
        home, _, backups = values["backup"].partition(" ")
        backup = (home, backups)
    return Declaration(values.get("kubelogin"), values.get("timer"), backup, values.get("tree"),
                       tuple(packages), tuple(files))


def declared_command(zfs: str | None, read: str, gather: str) -> Command:
    """The declared reads (``declared.sh``): ``zfs`` the ZFS read's text (None: the caller reads ZFS
    itself), ``read`` the file read's, ``gather`` the base gather's."""
    return Command.of("sh", "-c", DECLARED, "keystone-declared", PATH, GLOB, zfs or "-", read, gather, check=False)


def split_parts(text: str, host: str | None = None) -> dict[str, str]:
    """``declared.sh``'s output into its parts; ``DeclarationError`` unless every part is there, in
    order, and the output ends with ``@@end`` (a cut or garbled answer is never an empty one)."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines or lines[-1] != "@@end":
        raise DeclarationError(f"the read did not end (no @@end): {quote(text)}", host)
    marks = [i for i, line in enumerate(lines) if line.startswith("@@part ")]
    names = [lines[i][len("@@part "):] for i in marks]
    if names != list(PARTS):
        raise DeclarationError(f"parts {names} instead of {list(PARTS)}: {quote(text)}", host)
    ends = marks[1:] + [len(lines) - 1]
    return {name: "".join(line + "\n" for line in lines[start + 1:end]) for name, start, end in zip(names, marks, ends)}

