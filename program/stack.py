"""The whole program: settings + roster in, every component registered (called by ``__main__``)."""
from __future__ import annotations

import pathlib
from dataclasses import dataclass
from typing import Any

import pulumi

from components.workstation_user import KubernetesRbac, WorkstationUser, WorkstationUserArgs
from program import authentik, gate
from program.base import register_base
from program.gate import GateError
from program.peering import register_peering
from program.ports import port_allocation
from program.workstation import register_host_files
from roster import PersonState, Roster, RosterContext, RosterError, Tier, load_roster
from settings import SettingsError, StackSettings, kubeconfig, settings_from_config

SETTINGS_KEYS = ("roster", "minUid", "hosts", "zfs", "offboarding", "authentik", "kubernetes", "promotion",
                 "peering", "workstation", "base")
STRING_KEYS = ("roster",)  # plain strings in the stack file; every other key is YAML (a JSON value)
POWER_USER_ROLE = "keystone-power-user-readonly"
POWER_USER_LABEL = {"keystone.dev/role": "power-user-readonly"}
# Read-only on the everyday resources, listed one by one: no wildcard could sneak Secrets in.
POWER_USER_RULES = [
    ("", ["pods", "pods/log", "services", "endpoints", "configmaps", "persistentvolumeclaims", "events",
          "namespaces", "nodes", "persistentvolumes", "serviceaccounts", "resourcequotas", "limitranges",
          "replicationcontrollers"]),
    ("apps", ["deployments", "replicasets", "statefulsets", "daemonsets"]),
    ("batch", ["jobs", "cronjobs"]),
    ("networking.k8s.io", ["ingresses", "networkpolicies", "ingressclasses"]),
    ("autoscaling", ["horizontalpodautoscalers"]),
    ("policy", ["poddisruptionbudgets"]),
    ("storage.k8s.io", ["storageclasses"]),
    ("rbac.authorization.k8s.io", ["roles", "rolebindings", "clusterroles", "clusterrolebindings"]),
]


@dataclass
class ProgramInputs:
    stack: str
    settings: StackSettings
    roster: Roster
    authentik_token: pulumi.Input[str] | None = None
    roster_file: pathlib.Path | None = None
    """The roster's file (problems found after loading name its lines)."""
    authentik_directory: authentik.Directory | None = None
    """Where Authentik users are looked up; None: Authentik's API (the program tests give a map)."""


def load_inputs(stack: str | None = None, config: pulumi.Config | None = None,
                project_dir: pathlib.Path | None = None) -> ProgramInputs:
    """Read stack settings, then the roster; raises ``pulumi.RunError`` listing every problem of the
    first that fails.  The roster is checked only against valid settings, because its rules depend
    on them (``minUid``, the hosts, the peering LANs): with bad settings, the settings' problems
    (all of them) are reported and the roster is not read."""
    stack = stack or pulumi.get_stack()
    config = config or pulumi.Config("keystone")
    project_dir = project_dir or pathlib.Path.cwd()
    values = {k: _setting(config, k) for k in SETTINGS_KEYS}
    values = {k: v for k, v in values.items() if v is not None}
    try:
        settings = settings_from_config(values, project_dir / f"Pulumi.{stack}.yaml")
    except SettingsError as e:
        raise pulumi.RunError(str(e)) from None
    try:
        roster = load_roster(project_dir / settings.roster, RosterContext(
            min_uid=settings.min_uid, hosts=[h.name for h in settings.hosts],
            peering_lans=settings.peering.lans, allow_private_asns=settings.peering.allow_private_asns))
    except RosterError as e:
        raise pulumi.RunError(f"invalid roster, nothing was applied:\n{e}") from None
    token = config.get_secret("authentikToken") if settings.authentik.enabled else None
    if settings.authentik.enabled and token is None:
        raise pulumi.RunError("keystone:authentikToken is required when authentik is enabled "
                              "(pulumi config set --secret keystone:authentikToken ...)")
    return ProgramInputs(stack, settings, roster, token, roster_file=project_dir / settings.roster)


def _setting(config: pulumi.Config, key: str) -> Any:
    """A key's value: parsed JSON, or its text when it is not JSON (``minUid: abc``), which the
    settings then report at its line instead of Pulumi's ConfigTypeError traceback."""
    if key in STRING_KEYS:
        return config.get(key)
    try:
        return config.get_object(key)
    except pulumi.ConfigTypeError:
        return config.get(key)


def build(inputs: ProgramInputs) -> pulumi.Output[dict[str, Any]]:
    """Gather what the gate needs, check it, then register every resource (nothing when it fails)."""
    s, roster = inputs.settings, inputs.roster
    digest = roster.digest()
    own = pulumi.StackReference(f"{s.promotion.organization}/keystone/{inputs.stack}")
    deployed = own.get_output("people")
    deployed_peers = own.get_output("peers")
    previous = (pulumi.StackReference(f"{s.promotion.organization}/keystone/{s.promotion.after}")
                .get_output("rosterDigest") if s.promotion.after else pulumi.Output.from_input(None))

    found = authentik.lookup(s, roster, inputs.authentik_token, inputs.authentik_directory)

    def gate_then_register(args: list[Any]) -> dict[str, Any]:
        deployed_people, deployed_peer_map, previous_digest, found_users = args
        problems = gate.check(s, roster, digest=digest, previous_digest=previous_digest,
                              deployed_people=deployed_people, deployed_peers=deployed_peer_map,
                              authentik_users=found_users.users if found_users is not None else None,
                              roster_file=inputs.roster_file)
        if problems:
            raise GateError(problems)
        return register(inputs, found_users, deployed_people)

    return pulumi.Output.all(deployed, deployed_peers, previous, found).apply(gate_then_register)


def register(inputs: ProgramInputs, found: authentik.Lookup | None, deployed_people: Any = None) -> dict[str, Any]:
    s, roster = inputs.settings, inputs.roster
    sso_gate = authentik.register(s, found) if found is not None else None
    ports = port_allocation(s, roster, deployed_people)  # sticky: from the last deployment's outputs
    units = register_host_files(s, roster, ports, pathlib.Path.cwd())
    register_base(s, roster, inputs.stack, pathlib.Path.cwd())
    kube = None
    if s.kubernetes.enabled:
        import pulumi_kubernetes as k8s

        provider = k8s.Provider("kubernetes", kubeconfig=_read(s.kubernetes.kubeconfig), context=s.kubernetes.context,
                                opts=pulumi.ResourceOptions(version=s.kubernetes.provider_version))
        namespaces = [k8s.core.v1.Namespace.get(f"namespace-{ns}", ns, opts=pulumi.ResourceOptions(provider=provider))
                      for ns in owned_namespaces(roster)]
        k8s.rbac.v1.ClusterRole(
            "power-user-readonly",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=POWER_USER_ROLE, labels={
                **POWER_USER_LABEL, "app.kubernetes.io/managed-by": "keystone"}),
            rules=[k8s.rbac.v1.PolicyRuleArgs(api_groups=[group], resources=resources, verbs=["get", "list", "watch"])
                   for group, resources in POWER_USER_RULES],
            opts=pulumi.ResourceOptions(provider=provider, depends_on=namespaces))
        kube = KubernetesRbac(provider, POWER_USER_ROLE, s.kubernetes.oidc_prefix, namespaces)
        if s.kubernetes.people_kubeconfig:  # the preview shows when the kubeconfigs' CA runs out
            for subject, end in kubeconfig.ca_expiry(s.kubernetes.people_kubeconfig.certificate_authority):
                pulumi.log.info(f"keystone:kubernetes.peopleKubeconfig: CA {subject} expires {end:%Y-%m-%d %H:%M} UTC")

    people: dict[str, Any] = {}
    for p in sorted(roster.people.values(), key=lambda p: p.username):
        component = WorkstationUser(p.username, WorkstationUserArgs(
            person=p, hosts=[h for h in s.hosts if p.on_host(h.name)], settings=s, kubernetes=kube,
            authentik=sso_gate.member_args(p.username, p.authentik) if sso_gate else None,
            ports={h: {svc: users[p.username] for svc, users in per.items() if p.username in users}
                   for h, per in ports.items()},
            units=units))
        people[p.username] = component.summary

    result = {"people": people, "rosterDigest": roster.digest()}
    result.update(register_peering(roster.peers, s.peering))  # peers: ZeroTier members and BIRD files (program/peering.py)
    return result


def owned_namespaces(roster: Roster) -> list[str]:
    """Namespaces active namespace owners are bound in.  Keystone never creates a namespace: the program
    reads each one (``namespace-<name>``) before any Kubernetes object, and every object waits for the
    reads, so a namespace missing from the cluster stops the run before a Kubernetes object is changed
    (and, in the preview ``pulumi up`` runs first, before anything at all is applied)."""
    return sorted({ns for p in roster.people.values()
                   if p.state == PersonState.ACTIVE and p.tier == Tier.NAMESPACE_OWNER for ns in p.namespaces})


def _read(path: str | None) -> str | None:
    """The kubeconfig's text; a file that cannot be read is one line naming the setting."""
    try:
        return pathlib.Path(path).expanduser().read_text() if path else None
    except (OSError, UnicodeDecodeError) as e:
        raise pulumi.RunError(f"keystone:kubernetes.kubeconfig: cannot read {path}: "
                              f"{getattr(e, 'strerror', None) or e}") from None


def main() -> None:
    inputs = load_inputs()
    result = build(inputs)
    pulumi.export("rosterDigest", inputs.roster.digest())
    pulumi.export("people", result.apply(lambda r: r["people"]))
    pulumi.export("peers", result.apply(lambda r: r.get("peers", {})))
