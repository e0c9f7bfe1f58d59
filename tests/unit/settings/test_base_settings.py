"""keystone:base's file templates go through the settings' one template renderer (providers/workstation/templates.py):
sandboxed and strict, every failure a settings error naming the file — as the workstation's templates."""
from __future__ import annotations

import pytest

from settings import SettingsError, settings_from_config
from providers.workstation.templates import render


def load(template: str):
    return settings_from_config({
        "hosts": [{"name": "ws1", "address": "ws1.example.org"}],
        "zfs": {"homeParent": "rpool/crypt/home", "archiveParent": "rpool/crypt/archive", "homeMountpoint": "/home"},
        "base": {"fileDirs": ["/etc/skel"], "files": [{"path": "/etc/skel/.keystone", "template": template}]}})


def test_a_template_renders_with_stack_and_host():
    s = load("stack={{ stack }} host={{ host }}\n")
    assert render(s.base.files[0].template, stack="dev", host="ws2") == "stack=dev host=ws2\n"


@pytest.mark.parametrize("template, why", [
    ("{{ user }}", "'user' is undefined"),
    ("{{ 1/0 }}", "ZeroDivisionError"),
    ("{{ ''.__class__.__mro__ }}", "not allowed in a template"),
    ("{% include 'x' %}", "'include' is not allowed"),
])
def test_a_template_the_sandbox_refuses_is_a_settings_error(template, why):
    with pytest.raises(SettingsError) as e:
        load(template)
    [issue] = e.value.issues
    assert issue.startswith("stack config: keystone:base.files.0.template: template error: ") and why in issue
    assert issue.endswith("(variables: stack, host)")
