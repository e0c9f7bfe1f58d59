"""The controller double answers as a real ZeroTierOne 1.14.1 controller does: one test per fact
listed in ``docs/zerotier.md``.

If one of these fails, the double has drifted from the real controller and every provider test
built on it proves less.
"""
from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.harness.zerotier_controller import DEFAULT_NETWORK as NWID
from tests.harness.zerotier_controller import DEFAULT_TOKEN, FakeZeroTierController

# the keys of a member record created through the API without a name (sorted, as the controller writes them)
RECORD_KEYS = ["activeBridge", "address", "authenticationExpiryTime", "authorized", "capabilities", "creationTime",
               "id", "ipAssignments", "lastAuthorizedCredential", "lastAuthorizedCredentialType",
               "lastAuthorizedTime", "lastDeauthorizedTime", "noAutoAssignIps", "nwid", "objtype", "remoteTraceLevel",
               "remoteTraceTarget", "revision", "ssoExempt", "tags", "vMajor", "vMinor", "vProto", "vRev"]


def call(ctl: FakeZeroTierController, method: str, path: str, body: Any = None, *, token: str | None = DEFAULT_TOKEN,
         data: str | bytes | None = None) -> requests.Response:
    headers = {"X-ZT1-Auth": token} if token is not None else {}
    return requests.request(method, ctl.url + path, json=body if data is None else None, data=data, headers=headers,
                            timeout=5)


M = f"/controller/network/{NWID}/member"
MID = "a1b2c3d4e5"


def post(ctl: FakeZeroTierController, body: Any, mid: str = MID) -> dict[str, Any]:
    r = call(ctl, "POST", f"{M}/{mid}", body)
    assert r.status_code == 200, r.text
    return r.json()


# --- authentication and errors --------------------------------------------------------------------
def test_token_missing_or_wrong_is_401_with_empty_object(controller: FakeZeroTierController) -> None:
    for token in (None, "wrong"):
        r = call(controller, "GET", M, token=token)
        assert (r.status_code, r.json(), r.headers["Content-Type"]) == (401, {}, "application/json")
        r = call(controller, "POST", f"{M}/{MID}", {"authorized": True}, token=token)
        assert (r.status_code, r.json()) == (401, {})
    assert controller.member(NWID, MID) is None


def test_404_has_an_empty_body_and_no_content_type(controller: FakeZeroTierController) -> None:
    for method, path in [("GET", f"{M}/{MID}"), ("DELETE", f"{M}/{MID}"),
                         ("GET", "/controller/network/8056c2e21c000002/member"),
                         ("POST", "/controller/network/8056c2e21c000002/member/a1b2c3d4e5"),
                         ("POST", f"{M}/xyz"), ("POST", f"{M}/a1b2c3d4e5f"), ("POST", f"{M}/{MID}/"),
                         ("GET", "/controller/network/8056c2e2"), ("GET", "/nothing")]:
        r = call(controller, method, path, {} if method == "POST" else None)
        assert (r.status_code, r.content, r.headers.get("Content-Type")) == (404, b"", None), (method, path)


def test_malformed_json_is_500_with_the_error_body_and_stores_nothing(controller: FakeZeroTierController) -> None:
    for data in ("{bad json", "", '{"authorized": true', "NaN"):
        r = call(controller, "POST", f"{M}/{MID}", data=data)
        assert r.status_code == 500, data
        assert r.text.startswith('{"error": 500, "description": "[json.exception.parse_error.101] parse error')
        assert r.json()["error"] == 500
    assert controller.member(NWID, MID) is None


def test_non_string_ip_assignment_is_500_and_stores_nothing(controller: FakeZeroTierController) -> None:
    post(controller, {"authorized": True, "ipAssignments": ["10.99.0.2"]})
    for bad in (167903234, None, ["10.99.0.3"], {"ip": "10.99.0.3"}, True):
        r = call(controller, "POST", f"{M}/{MID}", {"authorized": False, "ipAssignments": ["10.99.0.3", bad]})
        assert r.status_code == 500
        assert r.json()["description"].startswith("[json.exception.type_error.302] type must be string, but is ")
    m = controller.member(NWID, MID)
    assert (m["authorized"], m["ipAssignments"], m["revision"]) == (True, ["10.99.0.2"], 1)
    r = call(controller, "POST", f"{M}/b2c3d4e5f6", {"ipAssignments": [5]})
    assert r.status_code == 500 and controller.member(NWID, "b2c3d4e5f6") is None


# --- writes and revisions -------------------------------------------------------------------------
def test_post_and_put_create_or_update_and_answer_the_whole_record(controller: FakeZeroTierController) -> None:
    m = post(controller, {"authorized": True, "ipAssignments": ["10.99.0.2"], "name": "p1"})
    assert sorted(m) == sorted(RECORD_KEYS + ["name"])
    assert (m["id"], m["address"], m["nwid"], m["objtype"]) == (MID, MID, NWID, "member")
    assert (m["authorized"], m["ipAssignments"], m["name"], m["revision"]) == (True, ["10.99.0.2"], "p1", 1)
    assert m["lastAuthorizedTime"] > 0 and m["lastDeauthorizedTime"] == 0
    r = call(controller, "PUT", f"{M}/{MID}", {"name": "p1-renamed"})
    assert (r.status_code, r.json()["name"], r.json()["authorized"]) == (200, "p1-renamed", True)
    assert call(controller, "GET", f"{M}/{MID}").json() == r.json()


def test_answers_are_sorted_compact_json(controller: FakeZeroTierController) -> None:
    r = call(controller, "POST", f"{M}/{MID}", {"name": "é"})
    assert r.headers["Content-Type"] == "application/json"
    assert r.content.startswith(b'{"activeBridge":false,"address":"a1b2c3d4e5",')
    assert '"name":"é"'.encode() in r.content


def test_revision_changes_by_one_only_on_a_real_change(controller: FakeZeroTierController) -> None:
    body = {"authorized": True, "ipAssignments": ["10.99.0.2"]}
    assert post(controller, body)["revision"] == 1
    assert post(controller, body)["revision"] == 1
    assert post(controller, {})["revision"] == 1
    assert post(controller, {"ipAssignments": ["10.99.0.2/24"]})["revision"] == 1  # stored the same
    assert post(controller, {"ipAssignments": ["10.99.0.3"]})["revision"] == 2
    assert post(controller, {"name": ""})["revision"] == 3  # a name key appears: a change


def test_delete_answers_the_record_then_404(controller: FakeZeroTierController) -> None:
    post(controller, {"authorized": True})
    r = call(controller, "DELETE", f"{M}/{MID}")
    assert r.status_code == 200 and r.json()["id"] == MID
    r = call(controller, "DELETE", f"{M}/{MID}")
    assert (r.status_code, r.content) == (404, b"")


def test_member_list_is_an_object_of_revisions(controller: FakeZeroTierController) -> None:
    post(controller, {"authorized": True})
    post(controller, {}, "b2c3d4e5f6")
    post(controller, {"name": "x"}, "b2c3d4e5f6")
    assert call(controller, "GET", M).json() == {MID: 1, "b2c3d4e5f6": 2}


def test_unknown_keys_and_read_only_fields_are_ignored(controller: FakeZeroTierController) -> None:
    m = post(controller, {"authorized": True})
    again = post(controller, {"id": "b2c3d4e5f6", "address": "b2c3d4e5f6", "nwid": "ffffffffffffffff",
                              "revision": 99, "creationTime": 1, "objtype": "network", "identity": "x",
                              "vMajor": 9, "ssoExempt": True, "frobnicate": True})
    assert again == m


# --- a member without a name ----------------------------------------------------------------------
def test_a_member_created_without_a_name_has_no_name_key(controller: FakeZeroTierController) -> None:
    m = post(controller, {"authorized": False})
    assert "name" not in m and sorted(m) == RECORD_KEYS
    assert "name" not in call(controller, "GET", f"{M}/{MID}").json()
    assert "name" not in controller.set_member(NWID, "b2c3d4e5f6")


def test_name_is_coerced_to_a_string(controller: FakeZeroTierController) -> None:
    assert [post(controller, {"name": v})["name"] for v in (12, True, False, None, [1], -1)] == [
        "12", "1", "0", "", "", "18446744073709551615"]


# --- ids are numbers -------------------------------------------------------------------------------
def test_members_are_keyed_by_number_and_take_the_spelling_of_the_last_write(
        controller: FakeZeroTierController) -> None:
    post(controller, {"authorized": True, "name": "p1"}, "abcdef0123")
    m = post(controller, {"authorized": True, "name": "p1"}, "ABCDEF0123")
    assert (m["id"], m["address"], m["revision"]) == ("ABCDEF0123", "ABCDEF0123", 2)  # the spelling is a change
    assert call(controller, "GET", M).json() == {"ABCDEF0123": 2}
    for spelling in ("abcdef0123", "ABCDEF0123", "AbCdEf0123"):
        assert call(controller, "GET", f"{M}/{spelling}").json()["id"] == "ABCDEF0123"
    m = post(controller, {"authorized": True, "name": "p1"}, "abcdef0123")
    assert (m["id"], m["revision"]) == ("abcdef0123", 3)
    assert controller.member_ids(NWID) == ["abcdef0123"]
    assert call(controller, "DELETE", f"{M}/ABCDEF0123").json()["id"] == "abcdef0123"
    assert call(controller, "GET", M).json() == {}


def test_network_id_in_uppercase_is_accepted(controller: FakeZeroTierController) -> None:
    upper = f"/controller/network/{NWID.upper()}"
    assert call(controller, "GET", upper).json()["id"] == NWID
    m = call(controller, "POST", f"{upper}/member/{MID}", {"authorized": True}).json()
    assert m["nwid"] == NWID.upper()  # written as spelt, like the member id
    assert call(controller, "GET", f"{M}/{MID}").json()["authorized"] is True
    assert call(controller, "GET", f"{upper}/member").json() == {MID: 1}


def test_null_member_answers_revision_0_and_is_never_stored(controller: FakeZeroTierController) -> None:
    for _ in range(2):
        m = post(controller, {"authorized": True}, "0000000000")
        assert (m["id"], m["revision"], m["authorized"]) == ("0000000000", 0, True)
    assert call(controller, "GET", f"{M}/0000000000").status_code == 404
    assert call(controller, "GET", M).json() == {}


# --- coercion of values ----------------------------------------------------------------------------
def test_ip_assignments_are_rewritten_not_refused(controller: FakeZeroTierController) -> None:
    m = post(controller, {"ipAssignments": ["10.99.0.2/24", "10.99.0.999", "::ffff:10.0.0.1", "FD00:0099::0002",
                                            "fd00::zz", "not-an-ip", "", "host.example", "10.99.0.7\u0000junk",
                                            "203.0.113.77", "203.0.113.77", "fe80::1%eth0", "1" * 70 + ".1"]})
    assert m["ipAssignments"] == ["10.99.0.2", "0.0.0.0", "::ffff:10.0.0.1", "fd00:99::2", "::", "0.0.0.0",
                                  "10.99.0.7", "203.0.113.77", "203.0.113.77", "::"]
    assert post(controller, {"ipAssignments": "10.99.0.2"})["ipAssignments"] == m["ipAssignments"]  # not a list


def test_tags_and_capabilities_come_back_deduplicated_and_sorted(controller: FakeZeroTierController) -> None:
    m = post(controller, {"tags": [[5, 1], [2, 7], [5, 3], [1], [1, 2, 3], "x", 4, [-1, "9"], [2, True]],
                          "capabilities": [9, 3, 9, "7", 1.9, None, -1]})
    assert m["tags"] == [[2, 1], [5, 3], [4294967295, 9]]
    assert m["capabilities"] == [0, 1, 3, 7, 9, 18446744073709551615]
    assert post(controller, {"tags": {"1": 2}})["tags"] == m["tags"]  # not a list: left alone


def test_booleans_are_coerced(controller: FakeZeroTierController) -> None:
    for value, auth in [(True, True), ("yes", False), ("true", True), ("T", True), ("1", True), ("0", False),
                        (1, True), (0, False), (-1, True), (0.5, False), (None, False), ([True], False)]:
        m = post(controller, {"authorized": value, "activeBridge": value, "noAutoAssignIps": value})
        assert (m["authorized"], m["activeBridge"], m["noAutoAssignIps"]) == (auth, auth, auth), value


def test_authorization_records_time_and_credential(controller: FakeZeroTierController) -> None:
    m = post(controller, {"authorized": False})
    assert (m["lastAuthorizedTime"], m["lastDeauthorizedTime"], m["lastAuthorizedCredentialType"]) == (0, 0, None)
    m = post(controller, {"authorized": True})
    assert m["lastAuthorizedTime"] > 0 and m["lastAuthorizedCredentialType"] == "api"
    assert m["lastAuthorizedCredential"] is None
    m = post(controller, {"authorized": "yes"})
    assert m["authorized"] is False and m["lastDeauthorizedTime"] > 0


# --- the extra fields and a node's join request ----------------------------------------------------
def test_records_carry_the_extra_fields(controller: FakeZeroTierController) -> None:
    m = post(controller, {})
    assert {k: m[k] for k in ("authenticationExpiryTime", "lastAuthorizedCredential", "lastAuthorizedCredentialType",
                              "remoteTraceLevel", "remoteTraceTarget", "ssoExempt", "vMajor", "vMinor", "vRev",
                              "vProto")} == {
        "authenticationExpiryTime": 0, "lastAuthorizedCredential": None, "lastAuthorizedCredentialType": None,
        "remoteTraceLevel": 0, "remoteTraceTarget": None, "ssoExempt": False, "vMajor": -1, "vMinor": -1,
        "vRev": -1, "vProto": -1}
    assert "identity" not in m
    m = post(controller, {"remoteTraceTarget": "0123456789", "remoteTraceLevel": 3})
    assert (m["remoteTraceTarget"], m["remoteTraceLevel"], m["revision"]) == ("0123456789", 3, 2)
    m = post(controller, {})  # every write resets remoteTraceLevel (1.14.1 checks a misspelt key)
    assert (m["remoteTraceTarget"], m["remoteTraceLevel"], m["revision"]) == ("0123456789", 0, 3)


def test_a_join_request_creates_a_pending_member_with_identity_and_no_name(
        controller: FakeZeroTierController) -> None:
    m = controller.join(NWID, MID)
    assert m is not None and "name" not in m
    assert m["identity"].startswith(f"{MID}:0:") and (m["authorized"], m["revision"]) == (False, 1)
    assert (m["vMajor"], m["vProto"]) == (-1, -1)  # not authorized: no version recorded
    answer = call(controller, "GET", f"{M}/{MID}").json()
    assert answer == m and sorted(answer) == sorted(RECORD_KEYS + ["identity"])
    assert call(controller, "GET", M).json() == {MID: 1}
    assert controller.join(NWID, MID)["revision"] == 1  # asking again changes nothing


def test_a_join_request_of_an_authorized_member_records_the_version(controller: FakeZeroTierController) -> None:
    post(controller, {"authorized": True, "name": "p1"}, MID.upper())
    m = controller.join(NWID, MID, version=(1, 14, 1, 13))
    assert (m["id"], m["vMajor"], m["vMinor"], m["vRev"], m["vProto"], m["revision"]) == (MID, 1, 14, 1, 13, 2)
    assert controller.join(NWID, MID, identity=f"{MID}:0:{'00' * 64}") is None  # another key: refused
    assert controller.member(NWID, MID) == m
    assert controller.join("8056c2e21c000009", MID) is None


# --- the test knobs and Central --------------------------------------------------------------------
def test_central_mode_shape_and_auth(central_controller: FakeZeroTierController) -> None:
    url = f"{central_controller.url}/api/v1/network/{NWID}/member/{MID}"
    assert requests.get(url, timeout=5).status_code == 401
    assert requests.get(url, headers={"Authorization": "token nope"}, timeout=5).status_code == 401
    body = {"name": "p1", "description": "AS64501", "config": {"authorized": True, "ipAssignments": ["10.99.0.2"]}}
    r = requests.post(url, json=body, headers={"Authorization": f"token {DEFAULT_TOKEN}"}, timeout=5)
    assert r.status_code == 200
    m = r.json()
    assert (m["id"], m["networkId"], m["nodeId"], m["name"], m["description"]) == (
        f"{NWID}-{MID}", NWID, MID, "p1", "AS64501")
    assert (m["config"]["authorized"], m["config"]["ipAssignments"]) == (True, ["10.99.0.2"])
    r = requests.get(url, headers={"Authorization": f"Bearer {DEFAULT_TOKEN}"}, timeout=5)
    assert r.status_code == 200 and r.json()["config"]["revision"] == m["config"]["revision"]
    assert requests.delete(url, headers={"Authorization": f"bearer {DEFAULT_TOKEN}"}, timeout=5).status_code == 200
    assert requests.get(url, headers={"Authorization": f"token {DEFAULT_TOKEN}"}, timeout=5).status_code == 404


@pytest.mark.parametrize("mode", ["self_hosted", "central"])
def test_knobs_fail_delay_count(controller_factory, mode: str) -> None:
    ctl = controller_factory(mode)
    path = M if mode == "self_hosted" else f"/api/v1/network/{NWID}/member"
    headers = {"X-ZT1-Auth": DEFAULT_TOKEN, "Authorization": f"token {DEFAULT_TOKEN}"}
    ctl.fail_next(2, 502)
    assert [requests.get(ctl.url + path, headers=headers, timeout=5).status_code for _ in range(3)] == [502, 502, 200]
    ctl.delay_next(1, 0.3)
    with pytest.raises(requests.Timeout):
        requests.get(ctl.url + path, headers=headers, timeout=0.1)
    assert ctl.request_count == 4
    assert [r.status for r in ctl.requests[:3]] == [502, 502, 200]


def test_start_is_idempotent() -> None:
    with FakeZeroTierController().start() as ctl:
        port = ctl.port
        assert ctl.start() is ctl and ctl.port == port
        assert call(ctl, "GET", M).json() == {}
