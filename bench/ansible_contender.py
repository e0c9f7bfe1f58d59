"""Ansible on the same guest: one playbook (group, user, zfs, file, zfs_delegate_admin), SSH with
ControlPersist and pipelining, ``gathering: explicit``.  Ansible lives in its own venv under
``~/.cache/keystone/bench-ansible`` (``pip install ansible``: ansible-core plus community.general),
so the project's venv stays clean."""
from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import time

from bench.people import DESCENDENT_PERMISSIONS, PERMISSIONS, Person

PLAYBOOK = """\
- hosts: guest
  gather_facts: false
  vars_files: [people.json]
  tasks:
    - name: user-private group
      ansible.builtin.group: {name: "{{ item.username }}", gid: "{{ item.uid }}"}
      loop: "{{ people }}"
    - name: account (locked password; no home creation, the home is the dataset)
      ansible.builtin.user:
        name: "{{ item.username }}"
        uid: "{{ item.uid }}"
        group: "{{ item.username }}"
        shell: "{{ item.shell }}"
        home: "{{ item.home }}"
        comment: "{{ item.comment }}"
        create_home: false
        password_lock: true
      loop: "{{ people }}"
    - name: home dataset
      community.general.zfs:
        name: "{{ item.dataset }}"
        state: present
        extra_zfs_properties: "{{ item.properties }}"
      loop: "{{ people }}"
    - name: home mountpoint owned by the person
      ansible.builtin.file: {path: "{{ item.home }}", state: directory, owner: "{{ item.username }}",
                             group: "{{ item.username }}", mode: "0700"}
      loop: "{{ people }}"
    - name: delegation on the home and its descendants
      community.general.zfs_delegate_admin:
        name: "{{ item.dataset }}"
        users: ["{{ item.username }}"]
        permissions: "{{ permissions }}"
        local: true
        descendents: true
      loop: "{{ people }}"
    - name: destroy on descendants only
      community.general.zfs_delegate_admin:
        name: "{{ item.dataset }}"
        users: ["{{ item.username }}"]
        permissions: "{{ descendent_permissions }}"
        local: false
        descendents: true
      loop: "{{ people }}"
"""


def venv_dir() -> pathlib.Path:
    root = pathlib.Path(os.environ.get("KEYSTONE_CACHE", pathlib.Path.home() / ".cache" / "keystone"))
    return root / "bench-ansible"


def ensure_ansible(log=print) -> pathlib.Path:
    """``ansible-playbook`` from the bench's own venv, installing it (``pip install ansible``) once."""
    venv = venv_dir()
    playbook = venv / "bin" / "ansible-playbook"
    if playbook.exists():
        return playbook
    log(f"installing Ansible into {venv} (pip install ansible; a few minutes, once)")
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "ansible"], check=True)
    return playbook


def version(playbook: pathlib.Path) -> str:
    p = subprocess.run([str(playbook.parent / "ansible"), "--version"], capture_output=True, text=True)
    core = p.stdout.splitlines()[0] if p.stdout else "?"
    pkg = subprocess.run([str(playbook.parent / "python"), "-c",
                          "import importlib.metadata as m; print(m.version('ansible'))"], capture_output=True, text=True)
    return f"ansible {pkg.stdout.strip()} ({core.strip()})"


def write_project(workdir: pathlib.Path, target: dict, people: list[Person]) -> None:
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "cp").mkdir(exist_ok=True)
    (workdir / "inventory.ini").write_text(
        f"guest ansible_host={target['address']} ansible_port={target['port']} ansible_user={target['user']} "
        f"ansible_ssh_private_key_file={target['identity_file']}\n")
    (workdir / "ansible.cfg").write_text(f"""[defaults]
inventory = {workdir / 'inventory.ini'}
gathering = explicit
interpreter_python = /usr/bin/python3
retry_files_enabled = False
host_key_checking = True

[ssh_connection]
pipelining = True
control_path_dir = {workdir / 'cp'}
ssh_args = -o ControlMaster=auto -o ControlPersist=600s -o IdentitiesOnly=yes -o UserKnownHostsFile={target['known_hosts_file']} -o StrictHostKeyChecking=yes -o HostKeyAlias={target['host_key_alias']}
""")
    (workdir / "site.yml").write_text(PLAYBOOK)
    (workdir / "people.json").write_text(json.dumps({
        "permissions": list(PERMISSIONS), "descendent_permissions": list(DESCENDENT_PERMISSIONS),
        "people": [{"username": p.username, "uid": p.uid, "shell": p.shell, "home": p.home, "comment": p.comment,
                    "dataset": p.dataset, "properties": p.properties()} for p in people]}, indent=1))


def run_playbook(playbook: pathlib.Path, workdir: pathlib.Path) -> tuple[float, str]:
    env = {**os.environ, "ANSIBLE_CONFIG": str(workdir / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1",
           "ANSIBLE_FORCE_COLOR": "0"}
    started = time.perf_counter()
    p = subprocess.run([str(playbook), str(workdir / "site.yml")], capture_output=True, text=True, env=env,
                       cwd=workdir)
    seconds = time.perf_counter() - started
    (workdir / "ansible.log").write_text(p.stdout + p.stderr)
    if p.returncode != 0:
        raise RuntimeError(f"ansible-playbook failed (exit {p.returncode}); log: {workdir / 'ansible.log'}\n"
                           f"{(p.stdout + p.stderr)[-2000:]}")
    recap = [line for line in p.stdout.splitlines() if line.startswith("guest ")]
    return seconds, recap[-1] if recap else ""
