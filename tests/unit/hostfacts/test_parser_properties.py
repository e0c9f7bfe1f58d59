"""Property tests of the host-output parsers (``getent``, ``zfs get``/``list``/``allow``, ``stat`` and the
read scripts' framing): what a host prints in the tools' format parses back to the same value, and
*any* text raises nothing but the parser's own error, which names the host and the command.

Host output is untrusted input: an account created by hand, a newer tool, a cut connection or a
hostile user's GECOS must give a clear error (or a correct result), never a crash.
"""
from __future__ import annotations

import string

from hypothesis import HealthCheck, given, settings, strategies as st

from providers.accounts import facts as accounts
from providers.accounts.facet import READ as ACCOUNTS_READ
from providers.hoststate import parse_host_state
from providers.output import UnexpectedOutput
from providers.host import Command, Result
from providers.zfs import facts as zfs
from providers.zfs.facet import READ as ZFS_READ

HOST = "ws-property"
FAST = settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

# --- strategies -------------------------------------------------------------------------------------

# Field text as getent prints it: anything but the separator and the line end (GECOS may hold
# spaces, commas, non-ASCII letters, control characters and U+2028 that splitlines() would split on).
field = st.text(st.characters(blacklist_characters=":\n", blacklist_categories=("Cs",)), max_size=20)
name = st.builds(lambda a, b: a + b, st.sampled_from(string.ascii_lowercase + "_"),
                 st.text(string.ascii_lowercase + string.digits + "_-", max_size=31))
number = st.integers(0, 2**32 - 1)
# Text close to the real formats (lines of separators, digits and names) reaches deeper than random text.
tokens = st.sampled_from(["alice", "x", "1000", "", "-", "+1", "1_0", "٣", "99999999999", "\t", " ", "!", "$6$",
                          "user", "group", "everyone", "@@keys", "@@passwd", "@@group", "@@shadow", "@@keys alice",
                          "@@get", "@@mounts", "@@stat", "@@allow", "@@root /home rpool/home", "1000:1000:700",
                          "a:b:c", "---- Permissions on rpool/home ----", "Local permissions:", "\u2028", "\x85"])
near = st.lists(st.lists(st.one_of(tokens, field), max_size=10).map(
    lambda parts: st.sampled_from([":", "\t", " ", ""]).map(lambda sep: sep.join(parts))), max_size=12).flatmap(
    lambda lines: st.tuples(*lines) if lines else st.just(())).map("\n".join)
anything = st.one_of(st.text(), near)


def names_host_and_command(e: UnexpectedOutput, command: str) -> bool:
    return str(e).startswith(f"host {HOST}: unexpected output of `") and command in str(e) and e.host == HOST


# --- getent ---------------------------------------------------------------------------------------

@st.composite
def passwd_entries(draw):
    entries = draw(st.dictionaries(name, st.tuples(number, number, field, field, field), max_size=8))
    return [accounts.PasswdEntry(n, uid, gid, gecos, home, shell) for n, (uid, gid, gecos, home, shell) in entries.items()]


@FAST
@given(passwd_entries())
def test_getent_passwd_round_trips(entries):
    text = "".join(f"{e.name}:x:{e.uid}:{e.gid}:{e.gecos}:{e.home}:{e.shell}\n" for e in entries)
    assert accounts.parse_passwd(text, HOST) == {e.name: e for e in entries}


@FAST
@given(st.dictionaries(name, st.tuples(number, st.frozensets(name, max_size=5)), max_size=8))
def test_getent_group_round_trips(groups):
    text = "".join(f"{n}:x:{gid}:{','.join(sorted(members))}\n" for n, (gid, members) in groups.items())
    assert accounts.parse_group(text, HOST) == {n: accounts.GroupEntry(n, gid, m) for n, (gid, m) in groups.items()}


@FAST
@given(st.dictionaries(name, st.tuples(field, st.one_of(st.just(""), st.integers(0, 99999).map(str))), max_size=8))
def test_getent_shadow_round_trips(rows):
    text = "".join(f"{n}:{pw}:19000:0:99999:7::{expire}:\n" for n, (pw, expire) in rows.items())
    parsed = accounts.parse_shadow(text, HOST)
    assert parsed == {n: accounts.ShadowEntry(n, pw, expire) for n, (pw, expire) in rows.items()}
    assert all(isinstance(e.expired, bool) for e in parsed.values())  # never raises on what was parsed


@FAST
@given(anything)
def test_getent_parsers_raise_only_their_own_error(text):
    for parse, command in ((accounts.parse_passwd, "getent passwd"), (accounts.parse_group, "getent group"),
                           (accounts.parse_shadow, "getent shadow")):
        try:
            result = parse(text, HOST)
        except accounts.ParseError as e:
            assert names_host_and_command(e, command), str(e)
        else:
            assert isinstance(result, dict)
            if parse is accounts.parse_shadow:
                assert all(isinstance(e.expired, bool) for e in result.values())
    assert isinstance(accounts.parse_authorized_keys_dump(text), dict)  # total: any text is a dump


# --- zfs get / list -------------------------------------------------------------------------------

_component = st.builds(lambda a, b: a + b, st.sampled_from(string.ascii_letters + string.digits),
                       st.text(string.ascii_letters + string.digits + "_.:-", max_size=8))
dataset = st.builds(lambda pool, rest: "/".join([pool, *rest]), st.sampled_from(["rpool", "tank", "p0"]),
                    st.lists(_component, max_size=3))
value = st.text(st.characters(blacklist_characters="\t\n\r", blacklist_categories=("Cs",)), max_size=20)


@FAST
@given(st.dictionaries(dataset, st.dictionaries(st.sampled_from(zfs.READ_PROPERTIES), st.tuples(value, st.sampled_from(
    ["local", "default", "-", "received", "inherited from rpool"])), min_size=1), max_size=6))
def test_zfs_get_round_trips(datasets):
    text = "".join(f"{ds}\t{prop}\t{v}\t{src}\n" for ds, props in datasets.items() for prop, (v, src) in props.items())
    parsed = zfs.parse_zfs_get(text, HOST)
    assert {ds: {p: (pv.value, pv.source) for p, pv in st_.properties.items()} for ds, st_ in parsed.items()} == datasets
    names_out = "".join(f"{ds}\n" for ds in datasets)  # zfs list -H -o name
    assert zfs.parse_zfs_list_names(names_out) == list(datasets)


@FAST
@given(anything)
def test_zfs_get_raises_only_its_own_error(text):
    try:
        zfs.parse_zfs_get(text, HOST)
    except zfs.ParseError as e:
        assert names_host_and_command(e, "zfs get"), str(e)
    assert isinstance(zfs.parse_zfs_list_names(text), list)


@FAST
@given(st.integers(1, 2**23), st.sampled_from(["", "K", "M", "G", "T"]))
def test_sizes_round_trip(n, suffix):
    shift = {"": 0, "K": 10, "M": 20, "G": 30, "T": 40}[suffix]
    assert zfs.size_bytes(f"{n}{suffix}") == n << shift
    assert zfs.normalize("quota", f"{n}{suffix}") == str(n << shift)


@FAST
@given(st.one_of(st.text(max_size=30), st.builds(lambda n, frac, suffix: "9" * n + frac + suffix, st.integers(300, 400),
                                                 st.sampled_from(["", ".5", ".25"]), st.sampled_from(list("KMGTPE")))))
def test_sizes_raise_only_the_parsers_error(text):
    try:
        result = zfs.size_bytes(text)
    except zfs.ParseError as e:
        assert "ZFS size" in str(e) or "whole number" in str(e)
    else:
        assert result is None or (isinstance(result, int) and result >= 0)


# --- zfs allow ------------------------------------------------------------------------------------

perm = st.sampled_from(["create", "destroy", "mount", "snapshot", "quota", "send", "receive", "userprop", "hold"])
principal = st.one_of(st.tuples(st.sampled_from(["user", "group"]), name), st.just(("everyone", "")))


@FAST
@given(st.dictionaries(dataset, st.dictionaries(principal, st.tuples(st.frozensets(perm), st.frozensets(perm)),
                                                 max_size=4), max_size=4))
def test_zfs_allow_round_trips(blocks):
    """Rendered in ``zfs allow``'s layout (a header per dataset, then the sections it prints)."""
    out = []
    for ds, grants in blocks.items():
        out.append(f"---- Permissions on {ds} " + "-" * 20)
        sections = {"Local permissions:": {}, "Descendent permissions:": {}, "Local+Descendent permissions:": {}}
        for (kind, who), (local, desc) in grants.items():
            both = local & desc
            for section, perms in (("Local permissions:", local - both), ("Descendent permissions:", desc - both),
                                   ("Local+Descendent permissions:", both)):
                if perms:
                    sections[section][(kind, who)] = perms
        for section, entries in sections.items():
            if entries:
                out.append(section)
                out += [f"\t{kind}{' ' + who if who else ''} {','.join(sorted(p))}" for (kind, who), p in entries.items()]
    parsed = zfs.parse_zfs_allow("\n".join(out) + "\n", HOST)
    assert set(parsed.datasets) == set(blocks)
    for ds, grants in blocks.items():
        expected = {k: (set(local), set(desc)) for k, (local, desc) in grants.items() if local or desc}
        got = {k: (g.local, g.descendent) for k, g in parsed.datasets[ds].items()}
        assert got == expected


@FAST
@given(anything)
def test_zfs_allow_raises_only_its_own_error(text):
    try:
        zfs.parse_zfs_allow(text, HOST)
    except zfs.ParseError as e:
        assert names_host_and_command(e, "zfs allow"), str(e)


# --- the read scripts' framing (hoststate) --------------------------------------------------------

@FAST
@given(anything, anything)
def test_a_hosts_reads_raise_only_the_parsers_error_naming_the_host(accounts_out, zfs_out):
    results = [Result(Command.of("sh", "-c", ACCOUNTS_READ, "keystone-accounts"), 0, accounts_out, ""),
               Result(Command.of("sh", "-c", ZFS_READ, "keystone-zfs", "-r", "rpool/home"), 0, zfs_out, ""),
               Result(Command.of("zfs", "allow", "rpool/home/alice"), 0, zfs_out, "")]
    try:
        parse_host_state(results, HOST)
    except UnexpectedOutput as e:
        assert isinstance(e, (accounts.ParseError, zfs.ParseError))
        assert str(e).startswith(f"host {HOST}: unexpected output of `"), str(e)


@FAST
@given(st.text(string.printable, max_size=40))
def test_the_accounts_read_with_a_hostile_gecos_still_parses(gecos):
    """A person may change their own GECOS (chfn): whatever it holds but ':' and a newline, the
    read of every account still parses, and the other accounts are intact."""
    gecos = gecos.replace(":", "").replace("\n", "")
    out = (f"@@passwd\nalice:x:20001:20001:{gecos}:/home/alice:/bin/bash\nbob:x:20002:20002:Bob:/home/bob:/bin/sh\n"
           "@@group\nalice:x:20001:\n@@shadow\nalice:!:19000:0:99999:7:::\n@@keys\n@@keys alice\n")
    state = parse_host_state([Result(Command.of("sh", "-c", ACCOUNTS_READ, "keystone-accounts"), 0, out, "")], HOST)
    assert state.passwd["alice"].gecos == gecos and state.passwd["bob"].uid == 20002
