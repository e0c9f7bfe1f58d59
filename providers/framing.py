"""The batch script a round trip sends to a host, and the reading of its reply (pure).

Groups of commands in, one POSIX ``sh`` script out: each command's stdout, exit code and stderr come
back between markers carrying a random per-batch token, written with shell builtins (stderr through
a command substitution, a fork), so the framing starts no process on the host; stdin goes in a
quoted here-document (no argument, and no secret, appears in any process list).  By default a
group stops at its first failing checked command.  ``parse_marked`` turns the marked output back
into results per group, raising ``TransportError`` on a broken frame.
"""
from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from collections.abc import Sequence

from providers.host import Command, Result, TransportError


@dataclass(frozen=True)
class Group:
    """Commands of one caller inside a shared script; ``stop_on_error`` stops this group only."""

    commands: tuple[Command, ...]
    stop_on_error: bool = True


def render_script(groups: Sequence[Group], token: str, sudo: bool) -> str:
    """A script that runs each group's commands and marks, on stdout, where each one's output is.

    Per command: ``@@<token> <group> <index> b``, its stdout (straight through), then
    ``\n@@<token> <group> <index> e <exit>``, its stderr, ``\n@@<token> <group> <index> s``.  The
    stderr is captured by a command substitution (a fork, no exec); the markers are printed by
    builtins: the framing starts no process on the host.
    """
    lines = [
        "set +e",
        "umask 077",
        "exec 3>&1",
        "b() { printf '@@%s %s %s b\\n' " + token + ' "$1" "$2"; }',
        # $1 group, $2 index, $3 captured stderr followed by ".<exit code>"
        "e() { printf '\\n@@%s %s %s e %s\\n%s\\n@@%s %s %s s\\n' " + token + ' "$1" "$2" "${3##*.}" "${3%.*}" '
        + token + ' "$1" "$2"; }',
    ]
    eof = f"KEYSTONE_EOF_{token}"
    for g, group in enumerate(groups):
        lines.append(f"g{g}() {{")
        for index, cmd in enumerate(group.commands):
            argv = (["sudo", "-n", "--"] if sudo else []) + list(cmd.argv)
            lines.append(f"b {g} {index}")
            lines.append("x=$(")  # the command's own line starts with the command (secrets never on it)
            line = shlex.join(argv) + " 2>&1 >&3 3>&-"
            if cmd.stdin is None:
                lines.append(line + " </dev/null")
            else:
                if eof in cmd.stdin or token in cmd.stdin:
                    raise ValueError("stdin contains the frame token")
                body = cmd.stdin if cmd.stdin.endswith("\n") else cmd.stdin + "\n"
                lines.append(f"{line} <<'{eof}'\n{body}{eof}")
            lines.append("printf '.%s' \"$?\")")
            lines.append(f'e {g} {index} "$x"; rc=${{x##*.}}')
            if group.stop_on_error and cmd.check:
                lines.append('[ "$rc" -eq 0 ] || return 0')
        lines.append("return 0")
        lines.append("}")
        lines.append(f"g{g}")
    lines.append("exit 0")
    return "\n".join(lines) + "\n"


def render_batch_script(commands: Sequence[Command], token: str, stop_on_error: bool, sudo: bool) -> str:
    """The script for one caller's batch (one group)."""
    return render_script([Group(tuple(commands), stop_on_error)], token, sudo)


def parse_marked(host: str, groups: Sequence[Group], token: str, out: bytes, err: bytes = b"") -> list[list[Result]]:
    """Results per group, in order, from the script's stdout; a group that stopped early has fewer
    results than commands.  (``err`` is the session's own stderr: ssh's messages, not the commands'.)"""
    t = re.escape(token.encode())
    marked = re.compile(rb"@@" + t + rb" (\d+) (\d+) b\n(.*?)\n@@" + t + rb" \1 \2 e (-?\d+)\n(.*?)\n@@" + t
                        + rb" \1 \2 s\n", re.S)
    results: list[list[Result]] = [[] for _ in groups]
    for m in marked.finditer(out):
        g, index, code = int(m.group(1)), int(m.group(2)), int(m.group(4))
        if g >= len(groups) or index != len(results[g]) or index >= len(groups[g].commands):
            raise TransportError(host, f"host {host}: malformed reply from the command batch (group {g}, command {index})")
        results[g].append(Result(groups[g].commands[index], code, m.group(3).decode("utf-8", "replace"),
                                 m.group(5).decode("utf-8", "replace")))
    return results


def parse_frames(host: str, commands: Sequence[Command], token: str, out: bytes, err: bytes = b"") -> list[Result]:
    """Results of a one-group script (see ``render_batch_script``)."""
    return parse_marked(host, [Group(tuple(commands))], token, out, err)[0]


def group_complete(group: Group, results: Sequence[Result]) -> bool:
    """Every command ran, or the group stopped (as asked) at a failed checked command."""
    if len(results) == len(group.commands):
        return True
    return bool(results) and group.stop_on_error and results[-1].command.check and not results[-1].ok
