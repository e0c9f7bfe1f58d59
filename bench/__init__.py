"""Keystone's side-by-side benchmark (issue #4): provision, refresh and change N people on the test
guest with Keystone's providers (through the real gRPC provider host, driven like the engine), with
Ansible, and with plain shell over one SSH connection (the floor of the host).

Run: ``.venv/bin/python -m bench`` (``--help`` for options).  Results: ``bench/results/``.
"""
