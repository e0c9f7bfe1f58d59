"""Where the engine lives and the environment its commands run in (pure: no process is started)."""
from __future__ import annotations

import importlib.metadata
import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


class EngineMissing(RuntimeError):
    """The CLI for the installed SDK version is not in the cache."""


def sdk_version() -> str:
    """The installed Pulumi SDK version; the CLI is built or installed at exactly this version."""
    return importlib.metadata.version("pulumi")


def cache_root() -> pathlib.Path:
    return pathlib.Path(os.environ.get("KEYSTONE_CACHE", pathlib.Path.home() / ".cache" / "keystone"))


def bin_dir(version: str | None = None) -> pathlib.Path:
    """``~/.cache/keystone/pulumi-v<version>/bin``: the CLI and the plugin launchers."""
    return cache_root() / f"pulumi-v{version or sdk_version()}" / "bin"


def cli(version: str | None = None) -> pathlib.Path:
    path = bin_dir(version) / "pulumi"
    if not os.access(path, os.X_OK):
        raise EngineMissing(f"no Pulumi CLI v{version or sdk_version()} at {path}: run `bash scripts/build-engine.sh` "
                            f"(or `bash scripts/setup.sh`)")
    return path


def command_env(base: dict[str, str] | None = None, version: str | None = None) -> dict[str, str]:
    """The environment of every ``pulumi`` command: the cached CLI and launchers first on PATH, the
    project's Python for the plugins, no plugin downloads and no update check (the machine reaches no
    plugin server)."""
    env = dict(os.environ if base is None else base)
    env["PATH"] = os.pathsep.join([str(bin_dir(version)), env.get("PATH", "")])
    env.setdefault("KEYSTONE_PYTHON", sys.executable)
    env.setdefault("PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION", "true")
    env.setdefault("PULUMI_SKIP_UPDATE_CHECK", "true")
    env.setdefault("PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK", "true")
    return env
