"""The opening every rule shares (``policy.rules._rule``): type filter, plain props, unknowns, fail closed."""
from __future__ import annotations

import pytest

from policy import contract as c
from policy.contract import UNKNOWN
from policy.rules._rule import config_of, report_unknown, resource_rule, resources_of, stack_rule
from tests.harness import policy_records as b
from tests.harness.policy_records import with_props


def _collect():
    messages: list[tuple[str, str | None]] = []
    return messages, lambda m, urn=None: messages.append((m, urn))


@pytest.mark.parametrize("kind", ["plain", "engine"])
def test_a_resource_rule_sees_only_its_types_with_plain_props(kind) -> None:
    seen = []

    @resource_rule(c.OS_ACCOUNT)
    def body(props, args, report_violation):
        seen.append((args.resource_type, props))

    build = b.ARG_BUILDERS[kind][0]
    messages, report = _collect()
    body(build(b.dataset()), report)
    assert seen == [] and messages == []
    body(build(with_props(b.account("alice", 1001, "ws1"), uid=UNKNOWN, __provider="x")), report)
    (type_, props), = seen
    assert type_ == c.OS_ACCOUNT and "__provider" not in props
    assert repr(props[c.ACCOUNT_UID]) == "<unknown uid>" and props[c.ACCOUNT_USERNAME] == "alice"


def test_a_resource_rule_names_its_types_and_fails_closed() -> None:
    with pytest.raises(ValueError):
        resource_rule()

    @resource_rule(c.OS_ACCOUNT)
    def body(props, args, report_violation):
        raise KeyError("boom")

    messages, report = _collect()
    body(b.plain_resource_args(b.account("alice", 1001, "ws1")), report)
    assert messages == [("the policy could not evaluate this input (KeyError: 'boom'); failing closed.", None)]


def test_a_stack_rule_walks_its_types_and_fails_closed() -> None:
    recs = [b.account("alice", 1001, "ws1"), b.dataset(), b.account("bob", 1002, "ws1")]
    args = b.ARG_BUILDERS["engine"][1](recs)
    assert [p[c.ACCOUNT_USERNAME] for _, p in resources_of(args, c.OS_ACCOUNT)] == ["alice", "bob"]
    assert [r.resource_type for r, _ in resources_of(args, c.OS_ACCOUNT, c.ZFS_DATASET)] == [
        c.OS_ACCOUNT, c.ZFS_DATASET, c.OS_ACCOUNT]

    @stack_rule
    def broken(args, report_violation):
        raise RuntimeError("no")

    messages, report = _collect()
    broken(args, report)
    assert messages == [("the policy could not evaluate this input (RuntimeError: no); failing closed.", None)]


def test_report_unknown_names_every_unknown_value_once() -> None:
    messages, report = _collect()
    assert report_unknown(report, (("a", 1), ("b", None))) is False and messages == []
    rec = with_props(b.account("alice", 1001, "ws1"), uid=UNKNOWN, tier=UNKNOWN)
    props = next(p for _, p in resources_of(b.ARG_BUILDERS["engine"][1]([rec]), c.OS_ACCOUNT))
    assert report_unknown(report, ((k, props.get(k)) for k in (c.ACCOUNT_UID, c.ACCOUNT_TIER, c.ACCOUNT_USERNAME)),
                          "urn:x") is True
    (message, urn), = messages
    assert message.startswith(f"cannot verify {c.ACCOUNT_UID}, {c.ACCOUNT_TIER}:") and urn == "urn:x"


def test_config_of_is_a_plain_dict() -> None:
    class Args:
        def __init__(self, config):
            self.config = config

        def get_config(self):
            return self.config

    assert config_of(Args(None)) == {} and config_of(Args(["x"])) == {}
    assert config_of(Args({"allow_destroy": True})) == {"allow_destroy": True}
