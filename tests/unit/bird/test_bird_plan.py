"""The safe apply: what is not state in → commands out in plan.py (verify, rollback, failure messages;
the rest is tests/unit/cases/bird), and the orchestration (apply.py) against a fake host."""
from __future__ import annotations

import threading

import pytest

from providers.bird import apply, parse, plan, render
from providers.bird.plan import Change, Observed, Step
from providers.host import Result
from tests.harness import bird_samples as samples
from tests.harness.fake_bird_host import FakeBirdHost

RS = samples.RS
PEERS = "/etc/bird/peers.d"
MAIN = render.render_server_config(RS, samples.RPKI_STATIC)


def peer_text(key: str = "as64501", **update) -> str:
    peer = samples.PEERS[key].model_copy(update=update) if update else samples.PEERS[key]
    return render.render_peer_file(RS, peer, samples.LIMITS[key], samples.RPKI_FLAG[key])


def peer_change(key: str = "as64501", content: str | None = "render", rs=RS, **kw) -> Change:
    asn = samples.PEERS[key].asn
    text = peer_text(key) if content == "render" else content
    return Change(kind="peer", rs=rs, resource=f"bird:PeerFile rs1/{asn}", live=rs.peer_file(asn), content=text,
                  marker=("bird:PeerFile", f"rs1/{asn}"), **kw)


def server_change(content: str = MAIN, rs=RS, **kw) -> Change:
    return Change(kind="server", rs=rs, resource="bird:ServerConfig rs1", live=rs.config_file, content=content,
                  marker=("bird:ServerConfig", "rs1"), **kw)


def observed(**kw) -> Observed:
    base = dict(main=MAIN, live=None, peer_files=(), neighbors={}, protocols={}, birdc_error=None,
                pending_undo=None, peers_dir_exists=True)
    return Observed(**{**base, **kw})


# --- pure plan -----------------------------------------------------------------------------------
# State in → commands out (or a refusal) is tested as data: tests/unit/cases/bird/*.yaml, run by
# tests/unit/test_planner_cases.py.  What takes more than host state stays here: verify, rollback
# (it needs the Outcome of round trip 2), failure messages.

def test_verify() -> None:
    change = peer_change()
    ok = parse.parse_configure("Reading configuration from /etc/bird/bird.conf\nUndo scheduled in 30 s\nReconfigured\n")
    protocols = {n: parse.Protocol(n, "BGP", "---", "start", "2026-01-01 00:00:00", "Active") for n in change.expected_protocols}
    out = plan.Outcome(reached=Step.SHOW, configure=ok, protocols=protocols,
                       configure_check=parse.parse_configure("Reading configuration from /etc/bird/bird.conf\nConfiguration OK\n"))
    assert plan.verify(change, observed(), out) == []
    out.protocols = {}
    assert "protocols missing after reconfiguring: as64501_10_99_0_2, as64501_fd00_99__2" in plan.verify(change, observed(), out)
    out.protocols = protocols
    out.configure_check = parse.parse_configure("Reading configuration from /usr/local/etc/bird.conf\nConfiguration OK\n")
    assert "reads /usr/local/etc/bird.conf, not /etc/bird/bird.conf" in plan.verify(change, observed(), out)[0]
    stale = {**protocols, "as64501_10_99_0_9": parse.Protocol("as64501_10_99_0_9", "BGP", "---", "up", "x", "Established")}
    out = plan.Outcome(reached=Step.SHOW, configure=ok, protocols=stale)
    seen = observed(live="protocol bgp as64501_10_99_0_9 from ks_peer_v4 {\n}\n")
    assert plan.verify(change, seen, out) == ["protocols still running after reconfiguring: as64501_10_99_0_9"]


@pytest.mark.parametrize("reached,live,undo,expected", [
    (Step.CHECK_ALONE, "old", None, ["rm -f {new} {base} {alone} {full}", "rm -f {old}"]),
    (Step.CONFIGURE_CHECK, "old", None, ["mv -f {old} {live}", "rm -f {new} {base} {alone} {full}"]),
    (Step.CONFIGURE_CHECK, None, None, ["rm -f {live}", "rm -f {new} {base} {alone} {full}"]),
    (Step.SHOW, "old", 30, ["mv -f {old} {live}", "birdc -s /run/bird/bird.ctl configure undo",
                            "rm -f {new} {base} {alone} {full}"]),
])
def test_rollback(reached, live, undo, expected) -> None:
    change = peer_change()
    configure = parse.ConfigureReply(True, None, undo, ("Reconfigured",))
    cmds = plan.rollback_commands(change, observed(live=live), plan.Outcome(reached=reached, configure=configure))
    p = change.paths
    names = dict(new=p.new, old=p.old, base=p.base, alone=p.alone, full=p.full, live=p.live)
    assert [" ".join(c.argv) for c in cmds] == [e.format(**names) for e in expected]


def test_failure_message_names_the_candidate_line_and_birds_message() -> None:
    change = peer_change()
    steps = plan.apply_steps(change, observed())
    cmd = next(c for s, c in steps if s is Step.CHECK_ALONE)
    err = f"bird: {change.paths.new}:7:30 syntax error, unexpected CF_SYM_UNDEFINED\n"
    out = plan.outcome(steps, [Result(cmd, 1, "", err)], cmd)
    assert out.failed is Step.CHECK_ALONE and not out.swapped
    msg = plan.failure_message(change, out)
    assert msg == ("the candidate /etc/bird/peers.d/as64501.conf does not parse (checked alone with the main config): "
                   "/etc/bird/peers.d/as64501.conf (candidate):7:30: syntax error, unexpected CF_SYM_UNDEFINED")


# --- orchestration against the fake host -------------------------------------------------------------

@pytest.fixture
def host(monkeypatch) -> FakeBirdHost:
    h = FakeBirdHost()
    monkeypatch.setattr(apply, "for_host", lambda target: h)
    from providers.readcache import ReadCache

    monkeypatch.setattr(apply, "READS", ReadCache(apply.READ_TTL))
    h.files["/etc/bird/bird.conf"] = MAIN
    h.files[f"{PEERS}/as64502.conf"] = peer_text("as64502")
    h.start_daemon()
    return h


def test_apply_new_peer_in_three_round_trips(host: FakeBirdHost) -> None:
    result = apply.apply_change(peer_change())
    assert result.changed and host.round_trips == 3
    assert host.files[f"{PEERS}/as64501.conf"] == peer_text()
    assert set(peer_change().expected_protocols) <= set(host.running()) and host.daemon.undo is None
    assert host.scratch_files() == []
    assert [b[0][3:] for b in host.batches[2:]] == [("configure", "confirm")]


def test_apply_again_is_a_no_op_in_one_round_trip(host: FakeBirdHost) -> None:
    apply.apply_change(peer_change())
    before = host.daemon.reconfigurations
    assert not apply.apply_change(peer_change(adopt=True)).changed
    assert host.round_trips == 4 and host.daemon.reconfigurations == before


def test_broken_candidate_changes_nothing(host: FakeBirdHost) -> None:
    broken = peer_text().replace("neighbor 10.99.0.2 as 64501;", "neighbor 10.99.0.2 as 64501 BROKEN;")
    running = host.running()
    with pytest.raises(apply.ApplyError) as e:
        apply.apply_change(peer_change(content=broken))
    msg = str(e.value)
    assert "bird:PeerFile rs1/64501 (route server rs1, host rs1, file /etc/bird/peers.d/as64501.conf)" in msg
    assert "/etc/bird/peers.d/as64501.conf (candidate):7:3: syntax error" in msg
    assert "Nothing was changed on the route server" in msg
    assert f"{PEERS}/as64501.conf" not in host.files and host.scratch_files() == []
    assert host.running() == running and host.daemon.reconfigurations == 0


def test_unclosed_brace_is_blamed_on_the_candidate(host: FakeBirdHost) -> None:
    broken = peer_text().rstrip().rstrip("}") + "\n"
    with pytest.raises(apply.ApplyError) as e:
        apply.apply_change(peer_change(content=broken))
    assert "the candidate /etc/bird/peers.d/as64501.conf does not parse" in str(e.value)
    assert "/etc/bird/bird.conf:1:0: syntax error, unexpected END (BIRD reports it past the end of the candidate: " \
           "the `{` opened at /etc/bird/peers.d/as64501.conf:25 is never closed)" in str(e.value)


def test_unclosed_brace_line() -> None:
    assert plan.unclosed_brace_line("a {\n  b { c; };\n}\n") is None
    assert plan.unclosed_brace_line('a {\n  description "}";\n  # }\n') == 1
    assert plan.unclosed_brace_line("a {\n}\nb {\n  c {\n  };\n") == 3


def test_broken_other_file_is_named(host: FakeBirdHost) -> None:
    host.files[f"{PEERS}/as64502.conf"] += "protocol bgp x BROKEN {\n}\n"
    with pytest.raises(apply.ApplyError, match=r"parses alone, but the whole config does not.*as64502.conf:\d+:3"):
        apply.apply_change(peer_change())


def test_error_in_the_next_file_points_at_the_one_before() -> None:
    f1, f2 = f"{PEERS}/as64400.conf", f"{PEERS}/as64502.conf"
    change = peer_change()
    seen = observed(peer_files=(f1, f2))
    steps = plan.apply_steps(change, seen)
    cmd = next(c for s, c in steps if s is Step.CHECK_FULL)
    out = plan.outcome(steps, [Result(cmd, 1, "", f"bird: {f2}:5:1 syntax error, unexpected PROTOCOL\n")], cmd)
    assert plan.failure_message(change, out, seen).endswith(
        f"{f2}:5:1: syntax error, unexpected PROTOCOL (if {f2} looks right, look for an unclosed `{{` in {f1}, "
        "included just before it: BIRD reports that in the next file)")


def test_unreadable_file_for_bird_user_is_refused(host: FakeBirdHost) -> None:
    host.unreadable_by_bird.add(f"{PEERS}/as64502.conf")
    with pytest.raises(apply.ApplyError, match="parses as root but not as the bird user.*Permission denied"):
        apply.apply_change(peer_change())
    assert f"{PEERS}/as64501.conf" not in host.files


def test_missing_protocol_after_configure_is_undone(host: FakeBirdHost) -> None:
    host.files[f"{PEERS}/as64501.conf"] = "# keystone-resource: bird:PeerFile rs1/64501\n# old\n"
    host.daemon.drop_on_configure = {"as64501_10_99_0_2"}
    running = host.running()
    with pytest.raises(apply.ApplyError) as e:
        apply.apply_change(peer_change())
    assert "protocols missing after reconfiguring: as64501_10_99_0_2" in str(e.value)
    assert "Rolled back: previous file restored, `configure undo` done." in str(e.value)
    assert host.files[f"{PEERS}/as64501.conf"].endswith("# old\n")
    assert host.running() == running and host.daemon.undo is None and host.scratch_files() == []


def test_confirm_too_late_restores_files_without_undo(host: FakeBirdHost) -> None:
    host.confirm_too_late = True
    with pytest.raises(apply.ApplyError, match="undo timer expired"):
        apply.apply_change(peer_change())
    assert f"{PEERS}/as64501.conf" not in host.files and host.scratch_files() == []
    assert all("undo" not in a for b in host.batches[3:] for a in b)  # BIRD already undid it


def test_failed_configure_restores_files_without_undo(host: FakeBirdHost) -> None:
    host.fail = lambda argv: (1, "BIRD 2.0.12 ready.\nReading configuration from /etc/bird/bird.conf\n"
                              "/etc/bird/peers.d/as64501.conf:3:1 syntax error\n", "") \
        if argv[3:5] == ("configure", "timeout") else None
    with pytest.raises(apply.ApplyError) as e:
        apply.apply_change(peer_change())
    assert "the daemon refused to reconfigure: /etc/bird/peers.d/as64501.conf:3:1: syntax error" in str(e.value)
    assert "new file removed" in str(e.value)
    assert f"{PEERS}/as64501.conf" not in host.files
    assert all("undo" not in " ".join(a) for b in host.batches for a in b)


def test_connection_cut_says_what_bird_will_do(host: FakeBirdHost) -> None:
    host.cut_after = 12
    with pytest.raises(apply.ApplyError, match="connection was cut.*undoes the change by itself within 30 s"):
        apply.apply_change(peer_change())


def test_refusals_run_nothing_but_the_gather(host: FakeBirdHost) -> None:
    host.files[f"{PEERS}/as64999.conf"] = "protocol bgp x from ks_peer_v4 {\n  neighbor 10.99.0.2 as 64999;\n}\n"
    with pytest.raises(apply.ApplyError, match="neighbor 10.99.0.2 is already configured in /etc/bird/peers.d/as64999.conf"):
        apply.apply_change(peer_change())
    assert host.round_trips == 1


def test_delete_and_the_empty_peer_set(host: FakeBirdHost) -> None:
    apply.apply_change(peer_change())
    apply.apply_change(peer_change(content=None, previous_protocols=tuple(peer_change().expected_protocols)))
    assert f"{PEERS}/as64501.conf" not in host.files
    assert not set(peer_change().expected_protocols) & set(host.running())
    last = peer_change("as64502", content=None)
    with pytest.raises(apply.ApplyError, match="no peer at all"):
        apply.apply_change(last)
    allowed = RS.model_copy(update={"allow_empty_peer_set": True})
    apply.apply_change(peer_change("as64502", content=None, rs=allowed))
    assert not any(p.startswith(PEERS + "/as") for p in host.files)
    assert host.scratch_files() == []


def test_server_config_take_over(host: FakeBirdHost) -> None:
    host.files["/etc/bird/bird.conf"] = "# Debian default\nprotocol device {\n}\n"
    host.files.pop(f"{PEERS}/as64502.conf")
    host.start_daemon()
    with pytest.raises(apply.ApplyError, match="not managed by Keystone"):
        apply.apply_change(server_change(adopt=True))
    apply.apply_change(server_change(adopt=True, take_over=True))
    assert host.files["/etc/bird/bird.conf"] == MAIN
    assert host.files["/etc/bird/bird.conf.keystone-orig"] == "# Debian default\nprotocol device {\n}\n"


def test_applies_to_one_route_server_are_serialized(host: FakeBirdHost) -> None:
    errors = []

    def run(key: str) -> None:
        try:
            apply.apply_change(peer_change(key))
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    host.files.pop(f"{PEERS}/as64502.conf")
    threads = [threading.Thread(target=run, args=(k,)) for k in ("as64501", "as64502", "as4200000001")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and host.overlaps == 0
    assert {f"{PEERS}/as64501.conf", f"{PEERS}/as64502.conf", f"{PEERS}/as4200000001.conf"} <= set(host.files)


def test_reads_of_one_route_server_share_one_round_trip(host: FakeBirdHost, monkeypatch) -> None:
    apply.apply_change(peer_change())
    trips = host.round_trips
    for key in ("as64501", "as64502"):
        content, protocols = apply.read_file_and_protocols(RS, RS.peer_file(samples.PEERS[key].asn))
        assert content == peer_text(key) and set(parse.declared_protocols(content)) <= set(protocols)
    main, _ = apply.read_file_and_protocols(RS, RS.config_file)
    assert main == MAIN and apply.read_file_and_protocols(RS, RS.peer_file(64999))[0] is None
    assert host.round_trips == trips + 1
    apply.apply_change(peer_change(content=None))  # any apply drops the shared read
    assert apply.read_file_and_protocols(RS, RS.peer_file(64501))[0] is None
    monkeypatch.setattr(apply.READS, "ttl", 0.0)  # and it expires
    apply.read_file_and_protocols(RS, RS.peer_file(64502))
    assert host.round_trips == trips + 1 + 3 + 2


def test_parse_peer_files() -> None:
    listing = f"{PEERS}/as1.conf\n{PEERS}/empty.conf\n{PEERS}/.as1.conf.keystone-new\n{PEERS}/sub/x.conf\n{PEERS}/we:ird.conf\n"
    lines = f"{PEERS}/as1.conf:# one\n{PEERS}/as1.conf:\n{PEERS}/as1.conf:protocol x {{ }}\n{PEERS}/sub/x.conf:y\n"
    assert plan.parse_peer_files(RS, listing, lines) == {f"{PEERS}/as1.conf": "# one\n\nprotocol x { }\n",
                                                         f"{PEERS}/empty.conf": ""}


# --- seeding: a new main config lays down its peer files in the same apply ------------------------------

def seed(key: str, content: str | None = None) -> plan.Seed:
    return plan.Seed(RS.peer_file(samples.PEERS[key].asn), content if content is not None else peer_text(key))


# which seeds are laid down and how they are staged, checked and swapped: tests/unit/cases/bird/*seed*.yaml

def test_a_seeded_change_expects_the_seeds_protocols() -> None:
    change = server_change(seed=(seed("as64501"), seed("as4200000001")))
    assert set(change.expected_protocols) >= set(peer_change("as64501").expected_protocols)


def test_rollback_of_a_seeded_apply_removes_the_seeds() -> None:
    change = server_change(seed=(seed("as64501"),))
    out = plan.Outcome(reached=Step.SHOW, configure=parse.ConfigureReply(True, None, 30, ("Reconfigured",)))
    cmds = [" ".join(c.argv) for c in plan.rollback_commands(change, observed(live=MAIN), out)]
    assert f"rm -f {PEERS}/as64501.conf" in cmds
    assert any(c.endswith("configure undo") for c in cmds)
    assert any(f"{PEERS}/.as64501.conf.keystone-new" in c for c in cmds)


def first_deployment(host: FakeBirdHost) -> None:
    """Debian's default config running, no peer file yet."""
    host.files["/etc/bird/bird.conf"] = "# Debian default\nprotocol device {\n}\n"
    host.files.pop(f"{PEERS}/as64502.conf")
    host.start_daemon()


def test_seeded_main_config_goes_live_in_one_apply(host: FakeBirdHost) -> None:
    first_deployment(host)
    change = server_change(adopt=True, take_over=True, seed=(seed("as64501"), seed("as64502")))
    assert apply.apply_change(change).changed
    assert host.round_trips == 3 and host.daemon.reconfigurations == 1
    assert host.files[f"{PEERS}/as64501.conf"] == peer_text() and host.files[f"{PEERS}/as64502.conf"] == peer_text("as64502")
    assert set(change.expected_protocols) <= set(host.running()) and host.scratch_files() == []


def test_a_seed_that_breaks_the_apply_falls_back_to_the_main_config_alone(host: FakeBirdHost) -> None:
    first_deployment(host)
    broken = peer_text().replace("neighbor 10.99.0.2 as 64501;", "neighbor 10.99.0.2 as 64501 BROKEN;")
    result = apply.apply_change(server_change(adopt=True, take_over=True, seed=(seed("as64501", broken), seed("as64502"))))
    assert result.changed
    assert host.files["/etc/bird/bird.conf"] == MAIN
    assert not any(p.startswith(PEERS + "/as") for p in host.files)  # no seed left behind, the good one neither
    assert host.daemon.undo is None and host.scratch_files() == []


def test_peer_file_in_place_is_judged_from_the_shared_read_only(host: FakeBirdHost, monkeypatch) -> None:
    path, text = f"{PEERS}/as64502.conf", peer_text("as64502")
    assert apply.in_place(RS, path, text) is None and host.round_trips == 0  # nothing cached: no round trip of its own
    apply.read_route_server(RS)
    monkeypatch.setattr(apply.READS, "ttl", 0.0)  # past the refresh's TTL: what only a write changes still holds
    assert apply.in_place(RS, path, text) is not None
    assert apply.in_place(RS, path, text + "# edited\n") is None
    assert apply.in_place(RS, f"{PEERS}/as64501.conf", peer_text()) is None  # not there
    host.files[path] = text + "protocol bgp ks_not_running { }\n"
    apply.READS.invalidate(apply._key(RS))
    apply.read_route_server(RS)
    assert apply.in_place(RS, path, host.files[path]) is None  # there, but the daemon does not run what it declares
    monkeypatch.setattr(apply, "PLACED_TTL", 0.0)  # and the safety net for a long-lived process
    host.files[path] = text
    assert apply.in_place(RS, path, text) is None and host.round_trips == 2


def test_a_write_to_the_daemon_after_the_read_means_nothing_is_taken_in_place(host: FakeBirdHost) -> None:
    path, text = f"{PEERS}/as64502.conf", peer_text("as64502")
    apply.read_route_server(RS)
    assert apply.apply_change(peer_change()).changed  # another file of the same daemon
    trips = host.round_trips
    assert apply.in_place(RS, path, text) is None and host.round_trips == trips


def test_a_failed_apply_also_drops_the_shared_read(host: FakeBirdHost) -> None:
    apply.read_route_server(RS)
    host.fail = lambda argv: (1, "BIRD 2.0.12 ready.\n/etc/bird/peers.d/as64501.conf:3:1 syntax error\n", "") \
        if argv[3:5] == ("configure", "timeout") else None
    with pytest.raises(apply.ApplyError, match="new file removed"):
        apply.apply_change(peer_change())  # swapped in, refused, rolled back: the daemon was written to
    assert apply.in_place(RS, f"{PEERS}/as64502.conf", peer_text("as64502")) is None


def test_an_apply_that_writes_nothing_keeps_the_shared_read(host: FakeBirdHost) -> None:
    path, text = f"{PEERS}/as64502.conf", peer_text("as64502")
    apply.read_route_server(RS)
    assert not apply.apply_change(peer_change("as64502", adopt=True)).changed  # already in place: the gather only
    with pytest.raises(apply.ApplyError, match="not applied"):  # refused after the gather: nothing written
        apply.apply_change(peer_change("as64501", content=text.replace("rs1/64502", "rs1/64501")))
    assert host.round_trips == 3 and apply.in_place(RS, path, text) is not None


def test_peer_files_seeded_by_their_server_config_are_created_without_a_round_trip(host: FakeBirdHost) -> None:
    from providers.bird.peer_file import BirdPeerFileProvider
    from providers.bird.server_config import BirdServerConfigProvider, SeedPeer

    first_deployment(host)
    rs = RS.model_dump(mode="json")
    files = [BirdPeerFileProvider().check({}, {"route_server": rs, "peer": samples.PEERS[k].model_dump(mode="json"),
                                               "base_config_id": "rs1"}).inputs for k in ("as64501", "as64502")]
    seeds = [SeedPeer.of(f).model_dump(mode="json") for f in files]
    server = BirdServerConfigProvider()
    server.create(server.check({}, {"route_server": rs, "rpki": samples.RPKI_STATIC.model_dump(mode="json"),
                                    "take_over_existing": True, "seed_peers": seeds}).inputs)
    assert host.round_trips == 4 and host.daemon.reconfigurations == 1  # gather, apply, confirm, one shared read
    for f in files:
        out = BirdPeerFileProvider().create(f).outs
        assert out["sha256"] == render.sha256(host.files[out["path"]]) and out["sessions"]
    assert host.round_trips == 4 and host.daemon.reconfigurations == 1


def test_seeded_peer_files_are_taken_as_they_are_however_late_until_a_write(host: FakeBirdHost, monkeypatch) -> None:
    from providers.bird.peer_file import BirdPeerFileProvider
    from providers.bird.server_config import BirdServerConfigProvider, SeedPeer

    first_deployment(host)
    rs = RS.model_dump(mode="json")
    files = [BirdPeerFileProvider().check({}, {"route_server": rs, "peer": samples.PEERS[k].model_dump(mode="json"),
                                               "base_config_id": "rs1"}).inputs
             for k in ("as64501", "as64502", "as4200000001")]
    server = BirdServerConfigProvider()
    server.create(server.check({}, {"route_server": rs, "rpki": samples.RPKI_STATIC.model_dump(mode="json"),
                                    "take_over_existing": True,
                                    "seed_peers": [SeedPeer.of(f).model_dump(mode="json") for f in files[:2]]}).inputs)
    assert host.round_trips == 4 and host.daemon.reconfigurations == 1
    monkeypatch.setattr(apply.READS, "ttl", 0.0)  # the engine reaches the peer files after the refresh's TTL
    BirdPeerFileProvider().create(files[0])
    assert host.round_trips == 4
    BirdPeerFileProvider().create(files[2])  # not seeded: its own safe apply, a write to the daemon
    assert host.round_trips == 7 and host.daemon.reconfigurations == 2
    out = BirdPeerFileProvider().create(files[1]).outs  # seeded, but written to since the read: its own gather
    assert host.round_trips == 8 and host.daemon.reconfigurations == 2  # (which finds it in place)
    assert out["sha256"] == render.sha256(host.files[out["path"]]) and out["sessions"]
