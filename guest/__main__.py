"""``python -m guest build|up|down|status|ssh`` — the test guest for the dev stack and for hands-on work.

``up`` restores the cached guest (building it first if needed) on 127.0.0.1:PORT (default 2222),
creates the pool layout Keystone expects (rpool/crypt/home on /home) and links the guest's key and
known_hosts under ~/.cache/keystone/guest-current/, which Pulumi.dev.yaml points at.
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import sys

from guest import vm

STATE = vm.cache_root() / "dev-guest.json"
CURRENT = vm.cache_root() / "guest-current"


def _load() -> vm.Guest | None:
    if not STATE.exists():
        return None
    d = json.loads(STATE.read_text())
    g = vm.Guest(pathlib.Path(d["image"]), pathlib.Path(d["rundir"]), d["port"], d["pid"])
    return g if g.alive() else None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m guest", description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("build", help="build (or find) the cached image and saved state")
    up = sub.add_parser("up", help="start the dev guest")
    up.add_argument("--port", type=int, default=2222)
    sub.add_parser("down", help="stop the dev guest")
    sub.add_parser("status")
    sh = sub.add_parser("ssh", help="run a command on the dev guest as root")
    sh.add_argument("command", nargs=argparse.REMAINDER)
    a = ap.parse_args(argv)

    if a.cmd == "build":
        image = vm.ensure_image()
        print(vm.ensure_saved_state(image))
        return 0
    current = _load()
    if a.cmd == "up":
        if current:
            print(f"dev guest already running on 127.0.0.1:{current.port} (pid {current.pid})")
            return 0
        g = vm.start(port=a.port)
        vm.prepare_pool(g)
        STATE.write_text(json.dumps({"image": str(g.image), "rundir": str(g.rundir), "port": g.port, "pid": g.pid}))
        if CURRENT.is_symlink() or CURRENT.exists():
            CURRENT.unlink()
        os.symlink(g.image, CURRENT)
        print(f"dev guest running on 127.0.0.1:{g.port} (pid {g.pid}); key and known_hosts in {CURRENT}")
        return 0
    if a.cmd == "down":
        if current:
            current.stop()
        STATE.unlink(missing_ok=True)
        print("dev guest stopped")
        return 0
    if a.cmd == "status":
        print(f"running on 127.0.0.1:{current.port} (pid {current.pid})" if current else "not running")
        return 0 if current else 1
    if a.cmd == "ssh":
        if not current:
            print("dev guest is not running: python -m guest up", file=sys.stderr)
            return 1
        p = current.ssh(" ".join(a.command) or "true", check=False)
        sys.stdout.write(p.stdout)
        sys.stderr.write(p.stderr)
        return p.returncode
    return 2


if __name__ == "__main__":
    sys.exit(main())
