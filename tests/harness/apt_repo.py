"""A local apt repository for the guest, which has no network: tiny ``Architecture: all`` packages
built here with ``dpkg-deb``, indexed by a flat ``Packages`` file, copied to the guest and named by a
``file:`` source (``[trusted=yes]``: nothing is signed)."""
from __future__ import annotations

import email.utils
import hashlib
import pathlib
import subprocess

SOURCE = "/etc/apt/sources.list.d/keystone-test.list"


def build_package(work: pathlib.Path, name: str, version: str = "1.0") -> pathlib.Path:
    root = work / f"{name}-root"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN" / "control").write_text(
        f"Package: {name}\nVersion: {version}\nArchitecture: all\nMaintainer: Keystone tests <tests@example.org>\n"
        f"Description: Keystone test package {name}\n")
    doc = root / "usr" / "share" / "doc" / name
    doc.mkdir(parents=True)
    (doc / "README").write_text(f"{name} was installed by Keystone's host base\n")
    deb = work / f"{name}_{version}_all.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "-Zgzip", "--build", str(root), str(deb)], check=True,
                   capture_output=True)
    return deb


def packages_index(debs: list[pathlib.Path]) -> str:
    """The flat repository's ``Packages``: each package's control fields, then where and what it is."""
    stanzas = []
    for deb in debs:
        control = subprocess.run(["dpkg-deb", "-f", str(deb)], check=True, capture_output=True, text=True).stdout
        data = deb.read_bytes()
        stanzas.append(control.rstrip("\n") + f"\nFilename: ./{deb.name}\nSize: {len(data)}\n"
                       f"SHA256: {hashlib.sha256(data).hexdigest()}\n")
    return "\n".join(stanzas)


def release(index: str) -> str:
    """A ``Release`` naming the index by its digest (apt refuses a source without one)."""
    data = index.encode()
    date = email.utils.formatdate(usegmt=True)
    return (f"Origin: keystone-test\nLabel: keystone-test\nDate: {date}\nSHA256:\n"
            f" {hashlib.sha256(data).hexdigest()} {len(data)} Packages\n")


def publish(guest, work: pathlib.Path, names: list[str], directory: str = "/srv/keystone-apt") -> None:
    """Build ``names``, copy them and their index to ``directory`` on the guest, and make it the
    guest's only apt source (the others, unreachable, are moved aside: ``restore`` puts them back)."""
    debs = [build_package(work, n) for n in names]
    guest.ssh(f"rm -rf {directory} && mkdir -p {directory}")
    for deb in debs:
        subprocess.run(guest.ssh_argv() + [f"cat > {directory}/{deb.name}"], input=deb.read_bytes(), check=True,
                       timeout=120)
    index = packages_index(debs)
    guest.ssh(f"cat > {directory}/Packages", input=index)
    guest.ssh(f"cat > {directory}/Release", input=release(index))
    guest.ssh("mkdir -p /etc/apt/keystone-aside && for f in /etc/apt/sources.list /etc/apt/sources.list.d/*; do "
              "[ -f \"$f\" ] && [ \"$f\" != " + SOURCE + " ] && mv \"$f\" /etc/apt/keystone-aside/; done; true")
    guest.ssh(f"echo 'deb [trusted=yes] file:{directory} ./' > {SOURCE}")


def restore(guest) -> None:
    guest.ssh(f"rm -f {SOURCE}; for f in /etc/apt/keystone-aside/*; do [ -f \"$f\" ] || continue; "
              "case ${f##*/} in sources.list) mv \"$f\" /etc/apt/ ;; *) mv \"$f\" /etc/apt/sources.list.d/ ;; esac; "
              "done; rmdir /etc/apt/keystone-aside 2>/dev/null; true")
