"""The controller double reproduces what DESIGN.md §5 recorded on a real ZeroTierOne 1.14.1 controller.

If one of these fails, the double has drifted from the real controller and every provider test
built on it proves less.
"""
from __future__ import annotations

from typing import Any

import requests

from tests.fakes.zerotier_controller import DEFAULT_NETWORK as NWID
from tests.fakes.zerotier_controller import DEFAULT_TOKEN, FakeZeroTierController

MEMBER_FIELDS = {"id", "address", "nwid", "authorized", "name", "ipAssignments", "activeBridge", "noAutoAssignIps",
                 "tags", "capabilities", "revision", "creationTime", "lastAuthorizedTime", "lastDeauthorizedTime",
                 "objtype"}


def call(ctl: FakeZeroTierController, method: str, path: str, body: Any = None, *, token: str | None = DEFAULT_TOKEN,
         data: str | None = None) -> requests.Response:
    headers = {"X-ZT1-Auth": token} if token is not None else {}
    return requests.request(method, ctl.url + path, json=body if data is None else None, data=data, headers=headers,
                            timeout=5)


M = f"/controller/network/{NWID}/member"


def test_token_missing_or_wrong_is_401_with_empty_object(controller: FakeZeroTierController) -> None:
    for token in (None, "wrong"):
        r = call(controller, "GET", M, token=token)
        assert (r.status_code, r.json()) == (401, {})
        r = call(controller, "POST", f"{M}/a1b2c3d4e5", {"authorized": True}, token=token)
        assert (r.status_code, r.json()) == (401, {})
    assert controller.member(NWID, "a1b2c3d4e5") is None


def test_post_and_put_create_or_update_and_answer_the_full_member(controller: FakeZeroTierController) -> None:
    r = call(controller, "POST", f"{M}/a1b2c3d4e5", {"authorized": True, "ipAssignments": ["10.99.0.2"], "name": "p1"})
    assert r.status_code == 200
    m = r.json()
    assert set(m) == MEMBER_FIELDS
    assert (m["id"], m["address"], m["nwid"], m["objtype"]) == ("a1b2c3d4e5", "a1b2c3d4e5", NWID, "member")
    assert (m["authorized"], m["ipAssignments"], m["name"]) == (True, ["10.99.0.2"], "p1")
    assert m["lastAuthorizedTime"] > 0 and m["lastDeauthorizedTime"] == 0
    r = call(controller, "PUT", f"{M}/a1b2c3d4e5", {"name": "p1-renamed"})
    assert (r.status_code, r.json()["name"], r.json()["authorized"]) == (200, "p1-renamed", True)


def test_identical_body_keeps_revision_and_a_change_adds_one(controller: FakeZeroTierController) -> None:
    body = {"authorized": True, "ipAssignments": ["10.99.0.2"]}
    first = call(controller, "POST", f"{M}/a1b2c3d4e5", body).json()["revision"]
    assert call(controller, "POST", f"{M}/a1b2c3d4e5", body).json()["revision"] == first
    assert call(controller, "POST", f"{M}/a1b2c3d4e5", {"ipAssignments": ["10.99.0.3"]}).json()["revision"] == first + 1
    assert call(controller, "POST", f"{M}/a1b2c3d4e5", {}).json()["revision"] == first + 1


def test_delete_answers_the_member_then_404(controller: FakeZeroTierController) -> None:
    call(controller, "POST", f"{M}/a1b2c3d4e5", {"authorized": True})
    r = call(controller, "DELETE", f"{M}/a1b2c3d4e5")
    assert r.status_code == 200 and r.json()["id"] == "a1b2c3d4e5"
    r = call(controller, "DELETE", f"{M}/a1b2c3d4e5")
    assert (r.status_code, r.content) == (404, b"")


def test_member_list_is_an_object_of_revisions(controller: FakeZeroTierController) -> None:
    call(controller, "POST", f"{M}/a1b2c3d4e5", {"authorized": True})
    call(controller, "POST", f"{M}/b2c3d4e5f6", {})
    call(controller, "POST", f"{M}/b2c3d4e5f6", {"name": "x"})
    assert call(controller, "GET", M).json() == {"a1b2c3d4e5": 1, "b2c3d4e5f6": 2}


def test_member_ids_are_stored_as_typed(controller: FakeZeroTierController) -> None:
    call(controller, "POST", f"{M}/ABCDEF0123", {"authorized": True})
    assert call(controller, "GET", f"{M}/abcdef0123").status_code == 404
    call(controller, "POST", f"{M}/abcdef0123", {"authorized": False})
    assert sorted(call(controller, "GET", M).json()) == ["ABCDEF0123", "abcdef0123"]
    assert call(controller, "GET", f"{M}/ABCDEF0123").json()["id"] == "ABCDEF0123"


def test_null_member_answers_200_but_is_never_stored(controller: FakeZeroTierController) -> None:
    r = call(controller, "POST", f"{M}/0000000000", {"authorized": True})
    assert r.status_code == 200 and r.json()["id"] == "0000000000"
    assert call(controller, "GET", f"{M}/0000000000").status_code == 404
    assert call(controller, "GET", M).json() == {}


def test_unknown_network_member_and_malformed_ids_are_404_empty(controller: FakeZeroTierController) -> None:
    for method, path in [("GET", f"{M}/a1b2c3d4e5"), ("GET", "/controller/network/8056c2e21c000002/member"),
                         ("POST", "/controller/network/8056c2e21c000002/member/a1b2c3d4e5"),
                         ("POST", f"{M}/xyz"), ("POST", f"{M}/a1b2c3d4e5f"), ("GET", "/controller/network/8056c2e2"),
                         ("GET", "/nothing")]:
        r = call(controller, method, path, {} if method == "POST" else None)
        assert (r.status_code, r.content) == (404, b""), (method, path)


def test_malformed_json_is_500_with_error_object(controller: FakeZeroTierController) -> None:
    r = call(controller, "POST", f"{M}/a1b2c3d4e5", data="{bad json")
    assert r.status_code == 500
    assert r.json()["error"] == 500 and isinstance(r.json()["description"], str)
    assert controller.member(NWID, "a1b2c3d4e5") is None


def test_unknown_keys_and_read_only_fields_are_ignored(controller: FakeZeroTierController) -> None:
    m = call(controller, "POST", f"{M}/a1b2c3d4e5", {"authorized": True}).json()
    r = call(controller, "POST", f"{M}/a1b2c3d4e5", {"id": "b2c3d4e5f6", "nwid": "ffffffffffffffff", "revision": 99,
                                                      "creationTime": 1, "objtype": "network", "frobnicate": True})
    assert r.status_code == 200
    assert {k: v for k, v in r.json().items()} == m


def test_silent_coercion(controller: FakeZeroTierController) -> None:
    call(controller, "POST", f"{M}/a1b2c3d4e5", {"authorized": True})
    r = call(controller, "POST", f"{M}/a1b2c3d4e5", {"authorized": "yes"})
    assert r.status_code == 200 and r.json()["authorized"] is False and r.json()["lastDeauthorizedTime"] > 0
    r = call(controller, "POST", f"{M}/a1b2c3d4e5", {"ipAssignments": ["10.99.0.2", "not-an-ip", "10.99.0.3/24",
                                                                        "203.0.113.77", 5]})
    assert r.status_code == 200 and r.json()["ipAssignments"] == ["10.99.0.2", "203.0.113.77"]


def test_central_mode_shape_and_auth(central_controller: FakeZeroTierController) -> None:
    url = f"{central_controller.url}/api/v1/network/{NWID}/member/a1b2c3d4e5"
    assert requests.get(url, timeout=5).status_code == 401
    assert requests.get(url, headers={"Authorization": "token nope"}, timeout=5).status_code == 401
    body = {"name": "p1", "description": "AS64501", "config": {"authorized": True, "ipAssignments": ["10.99.0.2"]}}
    r = requests.post(url, json=body, headers={"Authorization": f"token {DEFAULT_TOKEN}"}, timeout=5)
    assert r.status_code == 200
    m = r.json()
    assert (m["id"], m["networkId"], m["nodeId"], m["name"], m["description"]) == (
        f"{NWID}-a1b2c3d4e5", NWID, "a1b2c3d4e5", "p1", "AS64501")
    assert (m["config"]["authorized"], m["config"]["ipAssignments"]) == (True, ["10.99.0.2"])
    r = requests.get(url, headers={"Authorization": f"Bearer {DEFAULT_TOKEN}"}, timeout=5)
    assert r.status_code == 200 and r.json()["config"]["revision"] == m["config"]["revision"]
    assert requests.delete(url, headers={"Authorization": f"bearer {DEFAULT_TOKEN}"}, timeout=5).status_code == 200
    assert requests.get(url, headers={"Authorization": f"token {DEFAULT_TOKEN}"}, timeout=5).status_code == 404


def test_knobs_fail_delay_count(controller: FakeZeroTierController) -> None:
    controller.fail_next(2, 502)
    assert [call(controller, "GET", M).status_code for _ in range(3)] == [502, 502, 200]
    controller.delay_next(1, 0.3)
    try:
        requests.get(controller.url + M, headers={"X-ZT1-Auth": DEFAULT_TOKEN}, timeout=0.1)
        raise AssertionError("expected a timeout")
    except requests.Timeout:
        pass
    assert controller.request_count == 4
    assert [r.status for r in controller.requests[:3]] == [502, 502, 200]
