"""How long does linting 50 specs take in a fresh process?

Writes 50 specs (children of the shipped SemEval base with different adapters, quantisation and
trainer settings, plus standalone copies), then runs `peftspec lint` on them in new Python
processes and reports the median wall time next to a bare interpreter start for scale.

    python benchmarks/lint_speed.py [--repeat 7]

Target: under 0.5 s for 50 specs.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ADAPTERS = [
    'kind = "lora"\nr = {n}',
    'kind = "ia3"',
    'kind = "loha"\nr = {n}',
    'kind = "lokr"',
    'kind = "adalora"\ninit_r = {n}\ntarget_r = 4',
    'kind = "prompt_tuning"',
]


def write_specs(folder: Path, count: int) -> None:
    for spec in (ROOT / "specs").glob("*.toml"):
        shutil.copy(spec, folder / spec.name)
    base = "semeval_ec.toml"
    for i in range(count - len(list(folder.glob("*.toml")))):
        adapter = ADAPTERS[i % len(ADAPTERS)].format(n=4 + i % 13)
        (folder / f"exp_{i:02d}.toml").write_text(
            f'extends = "{base}"\nname = "exp-{i}"\n\n[adapter]\n{adapter}\n\n'
            f"[trainer]\nlearning_rate = {1e-4 * (1 + i % 5):g}\nbatch_size = {8 * (1 + i % 4)}\n"
            f'eval_strategy = "steps"\neval_steps = {10 * (1 + i % 3)}\n',
            encoding="utf-8",
        )


def timed(cmd: list[str], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--count", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "specs"
        folder.mkdir()
        # the base refers to ../../shared; keep that relative layout valid
        write_specs(folder, args.count)
        n = len(list(folder.glob("*.toml")))
        check = subprocess.run(
            [sys.executable, "-m", "peftspec", "lint", str(folder)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert check.returncode == 0, check.stdout + check.stderr
        lint = timed([sys.executable, "-m", "peftspec", "lint", str(folder)], args.repeat)
        bare = timed([sys.executable, "-c", "pass"], args.repeat)
    med, bare_med = statistics.median(lint), statistics.median(bare)
    print(
        f"lint {n} specs, fresh process: median {med:.3f} s (min {min(lint):.3f}, "
        f"max {max(lint):.3f}, {args.repeat} runs)"
    )
    print(f"bare interpreter start:       median {bare_med:.3f} s")
    print(f"lint / bare start ratio:      {med / bare_med:.1f}x")
    print(f"target < 0.5 s: {'met' if med < 0.5 else 'NOT met'}")


if __name__ == "__main__":
    main()
