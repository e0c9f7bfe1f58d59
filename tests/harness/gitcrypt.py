"""A repository holding a file encrypted by the real ``git-crypt`` (made on this machine, where the
Debian package is installed), as a bare repository a host can clone from: ``secret.env`` encrypted
(``.gitattributes``), ``README`` plain.  The guest needs only git: the bare repository is copied to it."""
from __future__ import annotations

import base64
import io
import pathlib
import shutil
import subprocess
import tarfile

MAGIC = b"\x00GITCRYPT\x00"
"""How every file git-crypt encrypted starts."""
SECRET = "TOKEN=not-for-the-workspace\n"
README = "hello from the workspace\n"
_GIT = ["git", "-c", "user.email=admin@example.org", "-c", "user.name=Admin", "-c", "init.defaultBranch=main"]


def encrypted_repository(work: pathlib.Path) -> pathlib.Path:
    """``work/code.git``: a bare repository with ``README`` (plain) and ``secret.env`` (git-crypt)."""
    if shutil.which("git-crypt") is None:
        raise RuntimeError("git-crypt is not installed on this machine (Debian package git-crypt: scripts/setup.sh)")
    src, bare = work / "src", work / "code.git"
    subprocess.run([*_GIT, "init", "-q", str(src)], check=True)
    subprocess.run(["git-crypt", "init"], cwd=src, check=True, capture_output=True)
    (src / ".gitattributes").write_text("secret.env filter=git-crypt diff=git-crypt\n")
    (src / "secret.env").write_text(SECRET)
    (src / "README").write_text(README)
    subprocess.run([*_GIT, "add", "-A"], cwd=src, check=True)
    subprocess.run([*_GIT, "commit", "-qm", "init"], cwd=src, check=True)
    subprocess.run([*_GIT, "clone", "-q", "--bare", str(src), str(bare)], check=True)
    blob = subprocess.run(["git", "-C", str(bare), "cat-file", "blob", "main:secret.env"], check=True,
                          capture_output=True).stdout
    assert blob.startswith(MAGIC), "git-crypt did not encrypt the file"
    return bare


def tarball_b64(directory: pathlib.Path) -> str:
    """The directory as a base64 tar.gz (to pipe through ``ssh … 'base64 -d | tar -xz'``)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(directory, arcname=directory.name)
    return base64.b64encode(buf.getvalue()).decode()
