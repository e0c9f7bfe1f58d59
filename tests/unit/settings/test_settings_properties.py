"""Property: a value the settings accept is one every provider model accepts too — so no provider
ever meets a bad setting first (issue 15: a relative ``homeMountpoint`` passed the settings and failed
later with a pydantic traceback out of a provider's model).  Anything else is a ``SettingsError``."""
from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings, strategies as st

from providers.accounts.plan import AccountInputs
from providers.zfs.plan import DatasetInputs, DelegationInputs
from settings import SettingsError, settings_from_config

FAST = settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
path_like = st.one_of(st.text(max_size=30), st.lists(st.sampled_from(["home", "..", ".", "", "a b", "x;id", "$(id)", "~",
                                                                       "srv", "-", "é", "a+b"]), max_size=4).map("/".join))
dataset_like = st.one_of(st.text(max_size=30), st.lists(st.sampled_from(["rpool", "crypt", "home", "..", "", "a b",
                                                                          "@s", "#b", "-x", "mirror", "p:1"]),
                                                         max_size=4).map("/".join))
user_like = st.one_of(st.text(max_size=12), st.sampled_from(["root", "-oX", "a b", "", "Keystone", "k" * 33, "ok_user"]))


@FAST
@given(path_like, dataset_like, user_like)
@example("/home", "rpool/crypt/home", "ok_user")
@example("/srv/home", "rpool/p:1/-x".replace("/-x", "/x-"), "root")
def test_accepted_settings_are_accepted_by_every_provider_model(mountpoint, parent, user):
    values = {"hosts": [{"name": "ws1", "address": "ws1.example.org", "user": user}],
              "zfs": {"homeParent": parent, "archiveParent": "rpool/crypt/archive", "homeMountpoint": mountpoint}}
    try:
        s = settings_from_config(values)
    except SettingsError as e:
        assert all(i.startswith("stack config: keystone:") for i in e.issues), e.issues
        return
    target = s.hosts[0].target()
    username = "a" * 32  # the longest user name the roster allows
    dataset = f"{s.zfs.home_parent}/{username}"
    home = f"{s.zfs.home_mountpoint.rstrip('/')}/{username}"
    AccountInputs(host=target, username=username, uid=20001, home=home)
    DatasetInputs(host=target, dataset=dataset, owner=username, owner_uid=20001, owner_gid=20001,
                  archive_parent=s.zfs.archive_parent)
    DelegationInputs(host=target, dataset=dataset, user=username)
