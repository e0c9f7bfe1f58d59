"""``python -m fuzz TARGET [libFuzzer options] [CORPUS_DIR ...]``: run one fuzz target under atheris
(``fuzz/run.sh`` runs them all, seeded from the captured fixtures)."""
import sys

import atheris

from fuzz.targets import TARGETS

if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
    sys.exit(f"usage: python -m fuzz {{{'|'.join(TARGETS)}}} [libFuzzer options] [corpus dirs]")
target = TARGETS[sys.argv[1]]
atheris.Setup([sys.argv[0]] + sys.argv[2:], target)
atheris.Fuzz()
