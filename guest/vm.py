"""Keystone's test guest: a Debian bookworm VM with OpenZFS, sshd and bird2, run by QEMU.

Used by the provider/e2e tests, the benchmarks and the dev stack.  Everything expensive is cached
under ``~/.cache/keystone`` (override with ``KEYSTONE_CACHE``), keyed by a hash of its recipe:

* the **image** (``guest-<recipe hash>/``): built by ``build-image.sh`` from Debian's packages
  (≈7 min on 2 cores, most of it compiling zfs-dkms);
* a **saved running state** (``guest-…/state-<hash of QEMU version and device arguments>/``):
  the guest booted once, with the zfs module loaded, then saved with QEMU's ``migrate``; restoring
  it reaches SSH in seconds instead of ≈30 s of cold boot under TCG.

Each run gets its own qcow2 overlay on the read-only saved disk and a new blank disk for the pool,
so every run starts from the same clean guest.  The guest sees no network but QEMU's loopback port
forward to its sshd (``restrict=on``).
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import pathlib
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass

HERE = pathlib.Path(__file__).resolve().parent
RECIPE_FILES = ("build-image.sh", "sshd_keystone.conf", "apt_mirrors.py")
HOST_KEY_ALIAS = "keystone-guest"
MEMORY_MB = 2048
CPUS = 2
POOL_DISK_SIZE = "4G"


class GuestError(RuntimeError):
    pass


def cache_root() -> pathlib.Path:
    root = pathlib.Path(os.environ.get("KEYSTONE_CACHE", pathlib.Path.home() / ".cache" / "keystone"))
    root.mkdir(parents=True, exist_ok=True)
    return root


def recipe_hash() -> str:
    h = hashlib.sha256()
    for name in RECIPE_FILES:
        h.update(name.encode() + b"\0" + (HERE / name).read_bytes() + b"\0")
    return h.hexdigest()[:16]


def image_dir() -> pathlib.Path:
    return cache_root() / f"guest-{recipe_hash()}"


def accelerator() -> list[str]:
    """KVM only where it can boot a stock kernel; a PVM KVM cannot (docs/design.md, "The test guest")."""
    if os.access("/dev/kvm", os.W_OK) and not os.path.exists("/sys/module/kvm_pvm"):
        return ["-accel", "kvm", "-cpu", "host"]
    return ["-accel", "tcg,thread=multi,tb-size=512", "-cpu", "max"]


def qemu_version() -> str:
    p = subprocess.run(["qemu-system-x86_64", "--version"], capture_output=True, text=True)
    if p.returncode != 0:
        raise GuestError("qemu-system-x86_64 is not installed: run the README's set-up command")
    return p.stdout.splitlines()[0]


def device_args(image: pathlib.Path, disk: pathlib.Path, pool: pathlib.Path, port: int, rundir: pathlib.Path) -> list[str]:
    """QEMU arguments.  A saved state restores only with the same devices, so this list is hashed
    into the state's cache key (paths and the port are not part of the device model)."""
    return [
        "qemu-system-x86_64", "-machine", "q35", *accelerator(), "-smp", str(CPUS), "-m", str(MEMORY_MB),
        "-kernel", str(image / "vmlinuz"), "-initrd", str(image / "initrd.img"),
        "-append", "root=/dev/vda rw console=ttyS0 quiet systemd.show_status=false",
        "-drive", f"file={disk},if=none,id=root,format=qcow2,cache=unsafe",
        "-device", "virtio-blk-pci,drive=root,addr=0x5",
        "-drive", f"file={pool},if=none,id=zpool,format=qcow2,cache=unsafe",
        "-device", "virtio-blk-pci,drive=zpool,serial=zpool0,addr=0x6",
        "-netdev", f"user,id=net0,restrict=on,hostfwd=tcp:127.0.0.1:{port}-:22",
        "-device", "virtio-net-pci,netdev=net0,addr=0x7",
        "-device", "vmgenid,guid=auto",
        "-device", "virtio-rng-pci,addr=0x8",
        "-display", "none", "-vga", "none",
        "-serial", f"file:{rundir / 'console.log'}",
        "-monitor", f"unix:{rundir / 'monitor.sock'},server,nowait",
        "-pidfile", str(rundir / "qemu.pid"), "-daemonize",
    ]


def state_key(image: pathlib.Path) -> str:
    args = device_args(image, pathlib.Path("D"), pathlib.Path("P"), 0, pathlib.Path("R"))
    return hashlib.sha256((qemu_version() + "\0" + "\0".join(args)).encode()).hexdigest()[:16]


@contextlib.contextmanager
def _file_lock(path: pathlib.Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_image(log=print) -> pathlib.Path:
    """The built image for the current recipe, building it (≈7 min) when the cache is missing."""
    out = image_dir()
    with _file_lock(cache_root() / "build.lock"):
        if (out / "root.raw").exists():
            return out
        if os.geteuid() != 0:
            raise GuestError("building the test guest needs root (debootstrap, chroot)")
        for tool in ("debootstrap", "mke2fs", "qemu-img", "zstd"):
            if not shutil.which(tool):
                raise GuestError(f"{tool} is missing: run the README's set-up command")
        log(f"building the test guest image into {out} (≈7 min on 2 cores)")
        p = subprocess.run(["bash", str(HERE / "build-image.sh"), str(out)])
        if p.returncode != 0:
            raise GuestError(f"guest image build failed (exit {p.returncode}); see its output above")
        # Old images of earlier recipes are dead weight.
        for old in cache_root().glob("guest-*"):
            if old != out and old.is_dir():
                shutil.rmtree(old, ignore_errors=True)
        return out


@dataclass
class Guest:
    """A running guest.  ``target()`` gives the SSH target for the transport."""

    image: pathlib.Path
    rundir: pathlib.Path
    port: int
    pid: int

    @property
    def key(self) -> pathlib.Path:
        return self.image / "id_ed25519"

    @property
    def known_hosts(self) -> pathlib.Path:
        return self.image / "known_hosts"

    def ssh_argv(self, user: str = "root", key: pathlib.Path | None = None) -> list[str]:
        return ["ssh", "-T", "-p", str(self.port), "-i", str(key or self.key), "-o", "IdentitiesOnly=yes",
                "-o", "BatchMode=yes", "-o", "ConnectTimeout=10",
                "-o", f"UserKnownHostsFile={self.known_hosts}", "-o", "StrictHostKeyChecking=yes",
                "-o", f"HostKeyAlias={HOST_KEY_ALIAS}", "-o", "LogLevel=ERROR", "-l", user, "127.0.0.1"]

    def ssh(self, command: str, *, user: str = "root", key: pathlib.Path | None = None, check: bool = True,
            input: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
        p = subprocess.run(self.ssh_argv(user, key) + [command], capture_output=True, text=True, input=input,
                           timeout=timeout)
        if check and p.returncode != 0:
            raise GuestError(f"guest: `{command}` as {user} exited {p.returncode}: {p.stderr.strip()}")
        return p

    def target_fields(self, name: str = "guest") -> dict:
        """Fields of a ``providers.host.HostTarget`` that reaches this guest as root."""
        return {"name": name, "address": "127.0.0.1", "port": self.port, "user": "root",
                "identity_file": str(self.key), "known_hosts_file": str(self.known_hosts),
                "host_key_alias": HOST_KEY_ALIAS, "connect_timeout": 10}

    def monitor(self, command: str) -> str:
        return hmp(self.rundir / "monitor.sock", command)

    def alive(self) -> bool:
        try:
            os.kill(self.pid, 0)
            return True
        except OSError:
            return False

    def stop(self) -> None:
        if self.alive():
            with contextlib.suppress(Exception):
                self.monitor("quit")
            deadline = time.monotonic() + 10
            while self.alive() and time.monotonic() < deadline:
                time.sleep(0.1)
            if self.alive():
                os.kill(self.pid, 9)
        shutil.rmtree(self.rundir, ignore_errors=True)

    def wait_for_ssh(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            if not self.alive():
                raise GuestError(f"guest QEMU exited; console: {self.console_tail()}")
            try:
                p = self.ssh("true", check=False, timeout=20)
                if p.returncode == 0:
                    return
                last = p.stderr.strip()
            except subprocess.TimeoutExpired:
                last = "ssh timed out"
            time.sleep(0.5)
        raise GuestError(f"guest: no SSH on 127.0.0.1:{self.port} after {timeout:.0f}s ({last}); "
                         f"console: {self.console_tail()}")

    def resume_after_restore(self, timeout: float) -> None:
        """The state was saved paused: wait for the incoming migration to finish, then run."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.monitor("info status")
            if "inmigrate" not in status and "paused" in status:
                self.monitor("cont")
                return
            if "running" in status:
                return
            time.sleep(0.1)
        raise GuestError(f"guest: restoring the saved state did not finish in {timeout:.0f}s")

    def console_tail(self, lines: int = 15) -> str:
        path = self.rundir / "console.log"
        if not path.exists():
            return "(no console output)"
        return " | ".join(path.read_text(errors="replace").splitlines()[-lines:])

    def sync_clock(self) -> None:
        self.ssh(f"date -u -s @{time.time():.3f} >/dev/null")


def hmp(sock: pathlib.Path, command: str, timeout: float = 600) -> str:
    """Send one human-monitor command and return its reply."""
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(timeout)
        s.connect(str(sock))
        buf = b""
        while not buf.endswith(b"(qemu) "):
            buf += s.recv(4096)
        s.sendall(command.encode() + b"\n")
        buf = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            buf += chunk
            if buf.endswith(b"(qemu) "):
                break
        return buf.decode(errors="replace")


def _launch(image: pathlib.Path, disk: pathlib.Path, rundir: pathlib.Path, extra: list[str],
            port: int | None = None) -> Guest:
    pool = rundir / "zpool.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(pool), POOL_DISK_SIZE], check=True)
    port = port or free_port()
    p = subprocess.run(device_args(image, disk, pool, port, rundir) + extra, capture_output=True, text=True)
    if p.returncode != 0:
        raise GuestError(f"qemu failed to start: {p.stderr.strip()}")
    pid = int((rundir / "qemu.pid").read_text().strip())
    return Guest(image, rundir, port, pid)


def _new_rundir() -> pathlib.Path:
    base = cache_root() / "run"
    base.mkdir(exist_ok=True)
    return pathlib.Path(tempfile.mkdtemp(prefix="guest-", dir=base))


def ensure_saved_state(image: pathlib.Path, log=print) -> pathlib.Path:
    """Boot once from the image, load zfs, and save the running VM (disk overlay + RAM)."""
    state = image / f"state-{state_key(image)}"
    with _file_lock(image / "state.lock"):
        if (state / "vm.state.zst").exists():
            return state
        shutil.rmtree(state, ignore_errors=True)
        tmp = image / f"{state.name}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        disk = tmp / "saved.qcow2"
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", str(image / "root.raw"),
                        str(disk)], check=True)
        rundir = _new_rundir()
        log("cold-booting the test guest to save its running state (≈30 s under TCG)")
        guest = _launch(image, disk, rundir, [])
        try:
            guest.wait_for_ssh(240)
            guest.ssh("modprobe zfs && zpool list >/dev/null && systemctl is-system-running --wait >/dev/null; sync",
                      check=False)
            guest.ssh("sync; echo 3 > /proc/sys/vm/drop_caches")
            guest.monitor("stop")
            guest.monitor(f'migrate "exec:zstd -q -T0 -3 > {tmp / "vm.state.zst"}"')
            deadline = time.monotonic() + 300
            while "completed" not in (info := guest.monitor("info migrate")):
                if "failed" in info or time.monotonic() > deadline:
                    raise GuestError(f"saving the guest state failed: {info}")
                time.sleep(0.5)
        finally:
            guest.stop()
        tmp.rename(state)
        return state


def start(log=print, port: int | None = None) -> Guest:
    """A fresh running guest: restored from the saved state (seconds), else cold-booted."""
    image = ensure_image(log)
    state = ensure_saved_state(image, log)
    rundir = _new_rundir()
    disk = rundir / "root.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", str(state / "saved.qcow2"),
                    str(disk)], check=True)
    guest = _launch(image, disk, rundir, ["-incoming", f"exec:zstd -dc {state / 'vm.state.zst'}"], port)
    try:
        guest.resume_after_restore(60)
        guest.wait_for_ssh(120)
        guest.sync_clock()
    except Exception:
        guest.stop()
        raise
    return guest


POOL_SCRIPT = """set -e
zpool create -f -o ashift=12 -O mountpoint=none -O acltype=posixacl -O xattr=sa rpool /dev/disk/by-id/virtio-zpool0
printf '%s\\n' "$KEYSTONE_PASSPHRASE" | zfs create -o encryption=on -o keyformat=passphrase -o mountpoint=none rpool/crypt
zfs create -o mountpoint=/home rpool/crypt/home
"""



@contextlib.contextmanager
def running(log=print):
    """A started guest with the pool layout Keystone expects, stopped on exit."""
    g = start(log=log)
    try:
        prepare_pool(g)
        yield g
    finally:
        g.stop()

def prepare_pool(guest: Guest, passphrase: str = "keystone-test-passphrase") -> None:
    """The layout Keystone expects on a workstation: rpool/crypt (encrypted) / home, mounted on /home.
    On real hosts the admin makes it once (README, host preparation)."""
    guest.ssh(f"KEYSTONE_PASSPHRASE={passphrase} sh -s", input=POOL_SCRIPT)
