"""Print the URI this machine's apt uses for a Debian archive ("debian" or "debian-security").

The guest is built from the same mirror the host already trusts, so no host name is baked into
the recipe.  Reads deb822 ``*.sources`` files and one-line ``sources.list`` entries.
"""
from __future__ import annotations

import pathlib
import sys


def candidate_uris(text: str) -> list[str]:
    uris: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("URIs:"):
            uris.extend(line.split()[1:])
        elif line.startswith("deb "):
            parts = [p for p in line.split() if not p.startswith("[")]
            if len(parts) > 1:
                uris.append(parts[1])
    return uris


def find(archive: str) -> str:
    files = [pathlib.Path("/etc/apt/sources.list"), *sorted(pathlib.Path("/etc/apt/sources.list.d").glob("*"))]
    for path in files:
        if not path.is_file() or path.name.endswith(".disabled-by-farm"):
            continue
        for uri in candidate_uris(path.read_text(errors="replace")):
            if uri.rstrip("/").endswith("/" + archive):
                return uri.rstrip("/")
    raise SystemExit(f"no apt source for the '{archive}' archive in /etc/apt/sources.list(.d)")


if __name__ == "__main__":
    print(find(sys.argv[1] if len(sys.argv) > 1 else "debian"))
