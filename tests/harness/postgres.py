"""A throw-away PostgreSQL cluster for the team-backend tier and the bench: Debian's ``postgresql``
binaries, ``initdb`` into a fresh directory, the server on a free loopback port (and its Unix socket in
that directory), password authentication as a team's server would have it.

PostgreSQL refuses to run as root: as root the cluster's directory belongs to the ``postgres`` user
(the Debian package creates it) and the server commands run as that user; the client commands
(``psql``, ``pg_dump``, ``pg_restore``) run as the caller and connect over TCP with the password.
"""
from __future__ import annotations

import os
import pathlib
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests.harness.engine import Workspace

USER = "keystone"
SERVER_USER = "postgres"  # who runs the server when the caller is root


class PostgresMissing(RuntimeError):
    """The PostgreSQL server binaries are not installed."""


def bin_dir() -> pathlib.Path:
    """The newest ``/usr/lib/postgresql/<major>/bin`` that holds ``initdb`` (Debian's layout: only
    wrappers are on PATH)."""
    found = sorted(pathlib.Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                   key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
    if not found:
        raise PostgresMissing("no PostgreSQL server binaries under /usr/lib/postgresql: run `bash scripts/setup.sh` "
                              "(it installs the Debian package `postgresql`)")
    return found[-1].parent


# Parametrizes the engine tier's ``workspace`` fixture: the test runs on the file backend and on the
# team backend.
BACKENDS = pytest.mark.parametrize("workspace", ["file", pytest.param("postgres", marks=pytest.mark.postgres)],
                                   indirect=True)
# The team backend's stacks each have their own passphrase (README, "A team's backend").
TEAM_PASSPHRASES = {stack: f"{stack}-admins-passphrase" for stack in ("dev", "staging", "prod", "e2e")}


def new_database_name() -> str:
    return f"keystone_{uuid.uuid4().hex[:12]}"


def database_of(url: str) -> str:
    """The database a ``postgres://…/<database>?…`` backend URL names."""
    return url.split("?", 1)[0].rsplit("/", 1)[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """One cluster: ``start()``/``stop()``, databases made and dropped by name, and the
    backend URL of each."""

    def __init__(self, root: pathlib.Path):
        self.root = root
        self.data = root / "data"
        self.port = free_port()
        self.password = uuid.uuid4().hex
        self.bin = bin_dir()
        self.as_server: list[str] = ["runuser", "-u", SERVER_USER, "--"] if os.geteuid() == 0 else []

    # -- server ------------------------------------------------------------------------------------
    def _server(self, tool: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        p = subprocess.run([*self.as_server, str(self.bin / tool), *args], capture_output=True, text=True,
                           timeout=timeout, cwd=self.root)
        if p.returncode != 0:
            raise RuntimeError(f"{tool} {' '.join(args)} exited {p.returncode}:\n{p.stdout}{p.stderr}")
        return p

    def init(self) -> Cluster:
        if self.as_server:
            shutil.chown(self.root, SERVER_USER, SERVER_USER)
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.password + "\n")
        if self.as_server:
            shutil.chown(pwfile, SERVER_USER, SERVER_USER)
        pwfile.chmod(0o600)
        try:
            self._server("initdb", "-D", str(self.data), "-U", USER, f"--pwfile={pwfile}", "--auth=scram-sha-256",
                         "--encoding=UTF8", "--locale=C", "--no-sync")
        finally:
            pwfile.unlink()
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(f"listen_addresses = '127.0.0.1'\nport = {self.port}\n"
                       f"unix_socket_directories = '{self.root}'\nfsync = off\nsynchronous_commit = off\n"
                       "full_page_writes = off\nmax_connections = 200\n")
        return self

    def start(self) -> None:
        self._server("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self._server("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    # -- clients -----------------------------------------------------------------------------------
    def client_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(PGHOST="127.0.0.1", PGPORT=str(self.port), PGUSER=USER, PGPASSWORD=self.password,
                   PGSSLMODE="disable")
        return env

    def client(self, tool: str, *args: str, input: str | None = None, timeout: float = 120) -> str:
        p = subprocess.run([str(self.bin / tool), *args], capture_output=True, text=True, input=input,
                           env=self.client_env(), timeout=timeout)
        if p.returncode != 0:
            raise RuntimeError(f"{tool} {' '.join(args)} exited {p.returncode}:\n{p.stdout}{p.stderr}")
        return p.stdout

    def sql(self, database: str, query: str) -> list[list[str]]:
        """Rows of ``query`` (tab-separated, unaligned, no header)."""
        out = self.client("psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-F", "\t", "-d", database,
                          "-c", query)
        return [line.split("\t") for line in out.splitlines()]

    def create_database(self, name: str) -> str:
        self.client("createdb", name)
        return name

    def drop_database(self, name: str) -> None:
        self.client("dropdb", "--if-exists", name)

    def dump(self, database: str, path: pathlib.Path) -> None:
        """``pg_dump`` in the custom format: the README's backup."""
        self.client("pg_dump", "-Fc", "-f", str(path), "-d", database)

    def restore(self, database: str, path: pathlib.Path) -> None:
        """Into a new, empty database of that name: the README's restore."""
        self.create_database(database)
        self.client("pg_restore", "--no-owner", "-d", database, str(path))

    def url(self, database: str) -> str:
        """The backend URL a team logs in with (README): ``postgres://user@host:port/database?…``, the
        password in ``PGPASSWORD`` (the CLI keeps the URL in clear in ``~/.pulumi/credentials.json``)."""
        return f"postgres://{USER}@127.0.0.1:{self.port}/{database}?sslmode=disable"

    def workspace(self, root: pathlib.Path, **kw: Any) -> Workspace:
        """A Keystone workspace whose backend is a new database of this cluster."""
        return Workspace(root, backend_url=self.url(self.create_database(new_database_name())),
                         environ={"PGPASSWORD": self.password}, **kw)


@contextmanager
def cluster() -> Iterator[Cluster]:
    """A started cluster in a fresh directory under the system temp dir (the server user must reach
    it: pytest's own temp dirs are private to the caller); stopped and removed on exit."""
    root = pathlib.Path(tempfile.mkdtemp(prefix="keystone-pg-"))
    c = Cluster(root)
    try:
        c.init()
        c.start()
        yield c
    finally:
        try:
            if (c.data / "postmaster.pid").exists():
                c.stop("immediate")
        finally:
            shutil.rmtree(root, ignore_errors=True)



def blobs(c: Cluster, database: str, table: str = "pulumi_state") -> dict[str, bytes]:
    """What the backend stored, per key: its ``data`` column is JSON ``{"data": <base64>}`` wrapping
    the blob (the checkpoint, its ``.bak``, history, locks); a gzip-compressed blob (the backend told
    to compress) is decompressed.  Decoded here so that a check on the rows sees what a reader of the
    database could see."""
    import base64
    import gzip
    import json

    out = {}
    for key, data in c.sql(database, f"SELECT key, data::text FROM {table} ORDER BY key"):
        blob = base64.b64decode(json.loads(data)["data"])
        if blob[:2] == b"\x1f\x8b":
            blob = gzip.decompress(blob)
        out[key] = blob
    return out


def raw_rows(c: Cluster, database: str, table: str = "pulumi_state") -> str:
    """Every row as the database holds it (``pg_dump``'s view: the table's text)."""
    return "\n".join("\t".join(r) for r in c.sql(database, f"SELECT key, data::text, updated_at FROM {table}"))
