"""The HTTP client against the controller double: retries, timeouts, error messages, session cache."""
from __future__ import annotations

import http.server
import pickle
import threading
import time

import pytest

from providers.zerotier import client as client_module
from providers.zerotier.client import RetryPolicy, Timeouts, ZeroTierAPIError, ZeroTierClient, session_for
from providers.zerotier.model import ZeroTierError, ZeroTierResponseError
from tests.harness.zerotier_controller import DEFAULT_NETWORK as NWID
from tests.harness.wait import wait_for
from tests.harness.zerotier_controller import DEFAULT_TOKEN, FakeZeroTierController

FAST = RetryPolicy(retries=3, backoff_factor=0.01)


def make(ctl: FakeZeroTierController, token: str = DEFAULT_TOKEN, **kw) -> ZeroTierClient:
    return ZeroTierClient(ctl.mode, ctl.url, token, policy=kw.pop("policy", FAST),
                          timeouts=kw.pop("timeouts", Timeouts(2, 2)), **kw)


@pytest.fixture(params=["self_hosted", "central"])
def ctl(request, controller_factory) -> FakeZeroTierController:
    return controller_factory(request.param)


def test_upsert_get_delete_roundtrip(ctl: FakeZeroTierController) -> None:
    c = make(ctl)
    body = ({"authorized": True, "ipAssignments": ["10.99.0.2"]} if ctl.mode == "self_hosted"
            else {"config": {"authorized": True, "ipAssignments": ["10.99.0.2"]}})
    assert c.get_member(NWID, "a1b2c3d4e5") is None
    c.upsert_member(NWID, "a1b2c3d4e5", body)
    assert c.get_member(NWID, "a1b2c3d4e5") is not None
    assert c.network_exists(NWID) and not c.network_exists("8056c2e21c000002")
    assert c.delete_member(NWID, "a1b2c3d4e5") is True
    assert c.delete_member(NWID, "a1b2c3d4e5") is False  # already gone: done


def test_list_members_shapes(ctl: FakeZeroTierController) -> None:
    c = make(ctl)
    c.upsert_member(NWID, "a1b2c3d4e5", {})
    listed = c.list_members(NWID)
    assert listed == {"a1b2c3d4e5": 1} if ctl.mode == "self_hosted" else [m["nodeId"] for m in listed] == ["a1b2c3d4e5"]


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429])
@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_transient_statuses_are_retried_for_every_method(controller: FakeZeroTierController, status: int,
                                                         method: str) -> None:
    c = make(controller)
    c.upsert_member(NWID, "a1b2c3d4e5", {"authorized": True})
    before = controller.request_count
    controller.fail_next(2, status)
    if method == "GET":
        assert c.get_member(NWID, "a1b2c3d4e5")["authorized"] is True
    elif method == "POST":
        assert c.upsert_member(NWID, "a1b2c3d4e5", {"authorized": False})["authorized"] is False
    else:
        assert c.delete_member(NWID, "a1b2c3d4e5") is True
    assert controller.request_count - before == 3


def test_retries_exhausted_names_status_and_count(controller: FakeZeroTierController) -> None:
    controller.fail_next(10, 503)
    with pytest.raises(ZeroTierAPIError) as err:
        make(controller).get_member(NWID, "a1b2c3d4e5")
    assert err.value.status == 503
    assert "503" in str(err.value) and "after 3 retries" in str(err.value)
    assert controller.request_count == 4


def test_read_timeout_is_retried(controller: FakeZeroTierController) -> None:
    c = make(controller, timeouts=Timeouts(1, 0.3))
    controller.delay_next(1, 3.0)
    started = time.monotonic()
    c.upsert_member(NWID, "a1b2c3d4e5", {"authorized": True})
    assert time.monotonic() - started < 3.0  # the retry answered; the first request was still held
    assert controller.request_count == 2
    # the delayed write lands late, with the same body: nothing changes
    wait_for("the delayed write to land", lambda: controller.requests[0].status is not None, timeout=10)
    assert controller.member(NWID, "a1b2c3d4e5")["revision"] == 1


def test_timeouts_exhausted(controller: FakeZeroTierController) -> None:
    controller.delay_next(3, 0.6)
    with pytest.raises(ZeroTierAPIError, match=r"no usable answer after 1 retries: .*[Tt]imed? ?out"):
        make(controller, timeouts=Timeouts(1, 0.2), policy=RetryPolicy(retries=1, backoff_factor=0)).get_member(
            NWID, "a1b2c3d4e5")


def test_unreachable_endpoint() -> None:
    c = ZeroTierClient("self_hosted", "http://127.0.0.1:9", DEFAULT_TOKEN, policy=RetryPolicy(retries=1, backoff_factor=0))
    with pytest.raises(ZeroTierAPIError, match="127.0.0.1:9.*no usable answer.*reachable controller"):
        c.get_member(NWID, "a1b2c3d4e5")


@pytest.mark.parametrize("mode", ["self_hosted", "central"])
def test_401_is_clear_and_never_shows_a_token(controller_factory, mode: str) -> None:
    ctl = controller_factory(mode)
    sent = "wrong-token-d3adb33f"
    with pytest.raises(ZeroTierAPIError) as err:
        make(ctl, token=sent).upsert_member(NWID, "a1b2c3d4e5", {})
    text = str(err.value)
    assert err.value.status == 401
    assert "401" in text and "zerotier token secret" in text and "keystone:zerotierToken" in text
    assert f"/network/{NWID}/member/a1b2c3d4e5" in text and "member a1b2c3d4e5" in text
    assert ("Central" if mode == "central" else "self-hosted") in text
    assert sent not in text and DEFAULT_TOKEN not in text
    assert ctl.member(NWID, "a1b2c3d4e5") is None
    assert ctl.request_count == 1  # 401 is not retried


def test_403_names_the_network(central_controller: FakeZeroTierController) -> None:
    central_controller.forbid(NWID)
    with pytest.raises(ZeroTierAPIError, match=f"403.*may not manage network {NWID}"):
        make(central_controller).upsert_member(NWID, "a1b2c3d4e5", {})


def test_404_on_write_names_network_and_hint(controller: FakeZeroTierController) -> None:
    with pytest.raises(ZeroTierAPIError, match="404.*8056c2e21c000009.*check network_id, api_url and api_mode"):
        make(controller).upsert_member("8056c2e21c000009", "a1b2c3d4e5", {})


def test_500_body_is_quoted(controller: FakeZeroTierController) -> None:
    c = make(controller, policy=RetryPolicy(retries=0))
    with pytest.raises(ZeroTierAPIError, match='500.*"error": 500'):  # an empty body is malformed JSON
        c._call("POST", c.member_url(NWID, "a1b2c3d4e5"), NWID, "a1b2c3d4e5", body=None)


def test_token_echoed_by_an_answer_is_masked(controller: FakeZeroTierController) -> None:
    c = make(controller, policy=RetryPolicy(retries=0))
    name = f"x{DEFAULT_TOKEN}x"
    c.upsert_member(NWID, "a1b2c3d4e5", {"name": name})
    controller.forbid(NWID)
    with pytest.raises(ZeroTierError) as err:
        c.get_member(NWID, "a1b2c3d4e5")
    assert DEFAULT_TOKEN not in str(err.value)
    assert c._mask(f"a {DEFAULT_TOKEN} b") == "a ******** b"


def test_non_json_success_is_a_response_error() -> None:
    class Html(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "5")
            self.end_headers()
            self.wfile.write(b"<html")

        def log_message(self, *a) -> None:
            pass

    srv = http.server.HTTPServer(("127.0.0.1", 0), Html)
    threading.Thread(target=srv.handle_request, daemon=True).start()
    try:
        c = ZeroTierClient("self_hosted", f"http://127.0.0.1:{srv.server_address[1]}", "a-long-token")
        with pytest.raises(ZeroTierResponseError, match="answered 200 with a body that is not JSON: <html"):
            c.get_member(NWID, "a1b2c3d4e5")
    finally:
        srv.server_close()


def test_missing_token_is_refused_before_any_request(controller: FakeZeroTierController) -> None:
    with pytest.raises(ZeroTierError, match="no ZeroTier API token.*keystone:zerotierToken"):
        ZeroTierClient("self_hosted", controller.url, "")
    assert controller.request_count == 0


def test_sessions_are_cached_per_endpoint_and_mode() -> None:
    a = session_for("http://a:1", "self_hosted", RetryPolicy())
    assert session_for("http://a:1", "self_hosted", RetryPolicy(retries=9)) is a
    assert session_for("http://a:1", "central", RetryPolicy()) is not a
    assert session_for("http://b:1", "self_hosted", RetryPolicy()) is not a
    assert ("http://a:1", "self_hosted") in client_module._SESSIONS
    adapter = a.get_adapter("http://a:1/")
    retry = adapter.max_retries
    assert {"POST", "PUT", "DELETE", "GET"} <= set(retry.allowed_methods)
    assert {500, 502, 503, 504} <= set(retry.status_forcelist)


def test_client_refuses_to_be_pickled(controller: FakeZeroTierController) -> None:
    with pytest.raises(TypeError, match="must not be pickled"):
        pickle.dumps(make(controller))


def test_unknown_mode() -> None:
    with pytest.raises(ValueError, match="unknown ZeroTier API mode"):
        ZeroTierClient("cloud", "http://x", "t")


def test_ids_reach_urls_only_as_lowercase_hex(controller: FakeZeroTierController) -> None:
    c = make(controller)
    assert c.member_url(NWID.upper(), "A1B2C3D4E5") == f"{controller.url}/controller/network/{NWID}/member/a1b2c3d4e5"
    for nwid, mid in [(NWID, "../a1b2c3"), (NWID, "a1b2c3d4e5?x"), ("8056c2e21c00000/", "a1b2c3d4e5")]:
        with pytest.raises(ValueError, match="hex digits"):
            c.member_url(nwid, mid)
    assert controller.request_count == 0
