"""Who exists where (pure): a stack's state and history in, one view per person and host out, as
Markdown or JSON.

The state (``pulumi stack export``) holds what the last ``up`` or ``refresh`` saw: each person's
component (``keystone:users:WorkstationUser``, named by the username) and its children — the account
(``os:Account``: uid, groups, shell, locked), the home (``zfs:Dataset``: dataset, mountpoint and the
quota read back), the delegation (``zfs:Delegation``), the services (``workstation:ServiceInstance``:
unit and port) and the Kubernetes bindings — and the stack's ``people`` output (tier, state,
Authentik username, Kubernetes subject).  Every resource carries the time it was created and last
modified; the history (``pulumi stack history --json``) says which update ran at that time, so each
person and host gets "the last change that touched them" as an update number and time.

The only figure the state does not hold is the space a home uses (it changes by the second): the
caller reads it live (``used_command`` and ``parse_used``) and passes it in, or passes nothing.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any
from collections.abc import Mapping, Sequence

from engine.history import numbered

COMPONENT = "keystone:users:WorkstationUser"
DYNAMIC = "pulumi-python:dynamic/"
BINDINGS = ("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
            "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding")


class ReportError(ValueError):
    """The state or history is not what a Keystone stack holds (one line: what and where)."""


@dataclass(frozen=True)
class Update:
    version: int
    kind: str
    start: dt.datetime
    end: dt.datetime | None
    result: str


def parse_time(value: Any) -> dt.datetime | None:
    """An RFC 3339 time (nanoseconds allowed) or Unix seconds, as an aware UTC datetime."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return dt.datetime.fromtimestamp(value, dt.UTC)
    if not isinstance(value, str) or not value:
        return None
    text = re.sub(r"(\.\d{6})\d+", r"\1", value.strip()).replace("Z", "+00:00")
    try:
        t = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return (t if t.tzinfo else t.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)


def parse_history(entries: Any) -> list[Update]:
    """``pulumi stack history --json``: the updates, oldest first, numbered as ``engine.history`` does."""
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ReportError("stack history: expected a JSON list of updates")
    updates = []
    for number, e in numbered(entries):
        start = parse_time(e.get("startTime"))
        if start is None:
            raise ReportError(f"stack history: an entry without startTime: {str(e)[:200]}")
        updates.append(Update(number, str(e.get("kind", "")), start, parse_time(e.get("endTime")),
                              str(e.get("result", ""))))
    return updates


def update_at(updates: Sequence[Update], t: dt.datetime | None) -> Update | None:
    """The update that was running at ``t`` (a resource's ``modified`` time): the last one started by then."""
    if t is None:
        return None
    slack = dt.timedelta(seconds=1)  # the backend's and the resource's clocks are the same machine's
    started = [u for u in updates if u.start - slack <= t]
    return started[-1] if started else None


def used_command(home_parent: str) -> tuple[str, ...]:
    """The one read of the used space of every home under ``home_parent`` on a host."""
    return ("zfs", "list", "-H", "-p", "-o", "name,used", "-d", "1", home_parent)


def parse_used(stdout: str) -> dict[str, int]:
    """``zfs list -H -p -o name,used``: dataset -> bytes used."""
    used = {}
    for line in stdout.splitlines():
        parts = line.split("\t")
        if len(parts) == 2 and parts[1].isdigit():
            used[parts[0]] = int(parts[1])
    return used


def human_size(n: int | None) -> str:
    if n is None:
        return "?"
    size = float(n)
    for unit in ("B", "K", "M", "G", "T"):
        if size < 1024 or unit == "T":
            return f"{size:.0f}{unit}" if unit == "B" or size >= 10 else f"{size:.1f}{unit}"
        size /= 1024
    return f"{n}B"  # not reached


def _kind(resource: Mapping[str, Any]) -> str:
    t = str(resource.get("type", ""))
    return t[len(DYNAMIC):] if t.startswith(DYNAMIC) else t


def _stack_outputs(resources: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    for r in resources:
        if r.get("type") == "pulumi:pulumi:Stack":
            return dict(r.get("outputs") or {})
    return {}


def _last(resources: Sequence[Mapping[str, Any]], updates: Sequence[Update]) -> dict[str, Any] | None:
    times = [t for r in resources for t in (parse_time(r.get("modified")), parse_time(r.get("created"))) if t]
    if not times:
        return None
    t = max(times)
    u = update_at(updates, t)
    return {"update": u.version if u else None, "kind": u.kind if u else None,
            "time": t.strftime("%Y-%m-%dT%H:%M:%SZ")}


def _host_view(parts: Sequence[Mapping[str, Any]], used: Mapping[tuple[str, str], int | None],
               updates: Sequence[Update]) -> dict[str, Any]:
    view: dict[str, Any] = {"account": None, "home": None, "delegation": None, "services": []}
    for r in parts:
        kind, out = _kind(r), dict(r.get("outputs") or {})
        host = (out.get("host") or {}).get("name")
        if kind == "os:Account":
            view["account"] = {"uid": out.get("uid"), "groups": out.get("groups") or [], "shell": out.get("shell"),
                               "locked": bool(out.get("locked")), "expired": bool(out.get("expired")),
                               "present": out.get("ensure", "present") == "present"}
        elif kind == "zfs:Dataset":
            dataset = out.get("dataset")
            quota = (out.get("observed") or {}).get("quota") or (out.get("properties") or {}).get("quota")
            view["home"] = {"dataset": dataset, "ensure": out.get("ensure"), "quota": quota,
                            "used": used.get((str(host), str(dataset)))}
        elif kind == "zfs:Delegation":
            view["delegation"] = {"dataset": out.get("dataset"), "user": out.get("user")}
        elif kind == "workstation:ServiceInstance":
            view["services"].append({"service": out.get("service"), "unit": out.get("unit"), "port": out.get("port"),
                                     "enabled": bool(out.get("enabled"))})
    view["services"].sort(key=lambda s: str(s["service"]))
    view["lastChange"] = _last(parts, updates)
    return view


def people_view(stack: str, deployment: Mapping[str, Any], history: Any,
                used: Mapping[tuple[str, str], int | None] | None = None) -> dict[str, Any]:
    """The report's data: ``deployment`` is ``pulumi stack export``'s ``deployment``; ``used``:
    (host, dataset) -> bytes, None for a host that could not be read."""
    updates = parse_history(history)
    resources = deployment.get("resources") if isinstance(deployment, Mapping) else None
    if resources is None:
        resources = []
    if not isinstance(resources, list):
        raise ReportError("stack export: deployment.resources is not a list")
    summaries = _stack_outputs(resources).get("people") or {}
    if not isinstance(summaries, dict):
        summaries = {}
    authentik_on = _authentik_on(resources)
    children: dict[str, list[Mapping[str, Any]]] = {}
    components = {}
    for r in resources:
        if r.get("type") == COMPONENT:
            components[str(r["urn"]).rsplit("::", 1)[-1]] = r
        elif r.get("parent"):
            children.setdefault(r["parent"], []).append(r)
    people: dict[str, Any] = {}
    for user in sorted(components):
        component, summary = components[user], summaries.get(user) or {}
        parts = children.get(component["urn"], [])
        per_host: dict[str, list[Mapping[str, Any]]] = {}
        for r in parts:
            host = ((r.get("outputs") or {}).get("host") or {}).get("name")
            if host:
                per_host.setdefault(str(host), []).append(r)
        bindings = [{"kind": _kind(r).rsplit(":", 1)[-1], "name": ((r.get("outputs") or {}).get("metadata") or {}).get("name"),
                     "namespace": ((r.get("outputs") or {}).get("metadata") or {}).get("namespace"),
                     "role": ((r.get("outputs") or {}).get("roleRef") or {}).get("name")}
                    for r in parts if r.get("type") in BINDINGS]
        settings_auth = summary.get("authentik")
        people[user] = {
            "state": summary.get("state"), "tier": summary.get("tier"), "uid": summary.get("uid"),
            "authentik": ({"username": settings_auth,
                           "gateMember": any(r.get("type") == GATE_MEMBER and (r.get("outputs") or {}).get("member")
                                             for r in parts)}
                          if settings_auth and authentik_on else None),
            "kubernetes": ({"subject": summary.get("kubernetes"), "bindings": bindings}
                           if summary.get("kubernetes") else None),
            "hosts": {h: _host_view(rs, used or {}, updates) for h, rs in sorted(per_host.items())},
            "lastChange": _last([component, *parts], updates),
        }
    last = updates[-1] if updates else None
    return {"stack": stack,
            "lastUpdate": ({"update": last.version, "kind": last.kind, "result": last.result,
                            "time": last.start.strftime("%Y-%m-%dT%H:%M:%SZ")} if last else None),
            "people": people}


GATE_MEMBER = "pulumi-python:dynamic/authentik:GroupMember"  # the person's membership (providers/authentik)


def _authentik_on(resources: Sequence[Mapping[str, Any]]) -> bool:
    """The stack manages Authentik: its gate group is in the state."""
    return any(str(r.get("urn", "")).endswith("::gate-group") for r in resources)


# -- rendering -------------------------------------------------------------------------------------
def render_json(view: Mapping[str, Any]) -> str:
    return json.dumps(view, indent=2, sort_keys=True) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _account(a: Mapping[str, Any] | None) -> str:
    if not a:
        return "—"
    if not a["present"]:
        return "removed"
    groups = ",".join(a["groups"]) or "no groups"
    return f"uid {a['uid']}, {groups}, {a['shell']}, {'locked' if a['locked'] else 'unlocked'}"


def _home(h: Mapping[str, Any] | None) -> str:
    if not h:
        return "—"
    used = "?" if h.get("used") is None else human_size(h["used"])
    where = h["dataset"] if h.get("ensure") in (None, "present") else f"{h['dataset']} ({h['ensure']})"
    return f"{where}: {used} / {h.get('quota') or 'none'}"


def _kube(k: Mapping[str, Any] | None) -> str:
    if not k:
        return "—"
    if not k["bindings"]:
        return f"{k['subject']}: no binding"
    return "; ".join(f"{b['kind']} {b['name']}{' in ' + b['namespace'] if b.get('namespace') else ''} → {b['role']}"
                     for b in k["bindings"])


def _change(c: Mapping[str, Any] | None) -> str:
    if not c:
        return "—"
    return f"update {c['update'] if c['update'] is not None else '?'} ({c['kind'] or '?'}), {c['time']}"


def render_markdown(view: Mapping[str, Any]) -> str:
    last = view.get("lastUpdate")
    head = (f"# Who exists where: stack `{view['stack']}`\n\n"
            + (f"Last update: {last['update']} ({last['kind']}, {last['result']}) at {last['time']}.\n\n" if last
               else "No update yet.\n\n"))
    if not view["people"]:
        return head + "Nobody: the stack holds no person.\n"
    lines = ["| person | tier | state | host | account | home (used / quota) | delegation | services | "
             "Kubernetes | Authentik | last change |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for user, p in view["people"].items():
        auth = p["authentik"]
        authentik = "—" if not auth else f"{auth['username']}: {'member' if auth['gateMember'] else 'not a member'}"
        hosts = p["hosts"] or {"—": None}
        for host, h in hosts.items():
            services = ", ".join(f"{s['service']}:{s['port']}{'' if s['enabled'] else ' (stopped)'}"
                                 for s in (h or {}).get("services", [])) or "—"
            delegated = "—" if not h else ("yes" if h["delegation"] else "no")
            cells = [user, str(p["tier"]), str(p["state"]), host, _account((h or {}).get("account")),
                     _home((h or {}).get("home")), delegated, services, _kube(p["kubernetes"]), authentik,
                     _change((h or {}).get("lastChange") or p["lastChange"])]
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return head + "\n".join(lines) + "\n"
