"""URLs (one host and port rule for every URL a setting names) and git values (refs by ``git
check-ref-format``'s rules, clone URLs without credentials)."""
from __future__ import annotations

import subprocess

import pytest

from validators import Invalid, git_ref, git_repository, http_url

REFS_GIT_REFUSES = ["", "-x", "a..b", "a b", "a~1", "a^", "a:b", "a?", "a*", "a[b", "a\\\\b", "a.lock", ".a",
                    "a/.b", "a/", "/a", "a//b", "a.", "a@{1}", "@", "a\x7fb", "a\tb"]
REFS_GIT_TAKES = ["main", "release/2026", "feat/x-y_z.1", "v1.2.3", "a@b", "a+b"]


@pytest.mark.parametrize("ref", REFS_GIT_REFUSES)
def test_refs_git_refuses_are_refused(ref):
    with pytest.raises(Invalid):
        git_ref(ref)


@pytest.mark.parametrize("ref", REFS_GIT_TAKES)
def test_refs_git_takes_are_taken(ref):
    assert git_ref(ref) == ref


def test_the_rule_agrees_with_git_check_ref_format():
    """The same verdict as ``git check-ref-format --branch`` on every sample (ASCII ones: Keystone
    also refuses characters beyond ASCII, which git takes).  git is part of the set-up: never skipped."""
    for ref in REFS_GIT_REFUSES + REFS_GIT_TAKES:
        if not ref.isprintable() or ref in ("", "@"):  # (--branch reads "@" as the current branch)
            continue
        ok = subprocess.run(["git", "check-ref-format", "--branch", ref], capture_output=True).returncode == 0
        assert ok == (ref in REFS_GIT_TAKES), ref


@pytest.mark.parametrize(("url", "why"), [
    ("https://hunter2@git.example.org/x.git", "credentials"), ("https://u:hunter2@git.example.org/x.git", "credentials"),
    ("ssh://git:hunter2@git.example.org/x.git", "credentials"), ("u:hunter2@git.example.org:x.git", "credentials"),
    ("https://git..example.org/x.git", "invalid host name"), ("https://git.example.org:0/x", "has port"),
    ("https://git.example.org", "no repository path"), ("file:///etc", "not a https or ssh URL"),
    ("git@-host:x", "invalid host name"), ("relative/path", "not a clone URL"), ("/srv/a b", "' '"),
])
def test_clone_urls(url, why):
    with pytest.raises(Invalid, match=why) as e:
        git_repository(url)
    assert "hunter2" not in str(e.value)


@pytest.mark.parametrize("url", ["https://git.example.org/team/code.git", "ssh://git@git.example.org:2222/x.git",
                                 "git@github.com:team/code.git", "/srv/git/code.git", "https://[2001:db8::1]/x"])
def test_clone_urls_taken(url):
    assert git_repository(url) == url


@pytest.mark.parametrize(("url", "why"), [
    ("https://a..b", "invalid host name"), ("https://-a.b", "invalid host name"), ("https://a-.b", "invalid host name"),
    ("https://a_b.c", "invalid host name"), ("https://a.b:0", "has port"), ("https://a.b:65536", "has port"),
    ("https://a.b:x", "has port"), ("https://10.0.0.256", "invalid IPv4"), ("https://[zz::1]", "invalid IPv6"),
    (f"https://{'a' * 64}.b", "invalid host name"), ("https://a.b/?q", "not an http"),
])
def test_http_urls(url, why):
    with pytest.raises(Invalid, match=why):
        http_url(url)
    assert http_url("https://k8s.example.org:6443/a/b") and http_url("http://10.0.0.1:9993")
