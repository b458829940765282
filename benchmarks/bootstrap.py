"""How fast is `compare --baseline`'s paired bootstrap? The reference size: 10,000 resamples of
3,000 rows x 11 labels (SemEval-2018 E-c's size) for 3 runs, 4 headline metrics.

    python benchmarks/bootstrap.py [--rows 3000] [--labels 11] [--resamples 10000] [--repeat 3]
                                   [--seeds 1]

`--seeds N` makes each of the 3 sides a group of N seeds, drawn with replacement on each resample.

Target (issue #14): under 5 s on this project's 2-core machine. Prints the median of `--repeat`
runs and the spread, and the time of one resample done by hand with scikit-learn for scale.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from peftspec.metrics.registry import METRICS
from peftspec.report.significance import compare
from peftspec.runs import read_run
from tests.test_significance import predictions, with_predictions

METRIC_NAMES = ["f1_micro", "f1_macro", "subset_accuracy", "jaccard"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--labels", type=int, default=11)
    parser.add_argument("--resamples", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seeds", type=int, default=1, help="runs in each of the 3 sides")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    gold, _ = predictions(rng, args.rows, "multi_label", args.labels, 0.8)
    with tempfile.TemporaryDirectory() as tmp:
        runs = [
            read_run(
                with_predictions(
                    Path(tmp),
                    f"r{i}-20260301T120000Z",
                    gold,
                    predictions(rng, args.rows, "multi_label", args.labels, 0.8)[1],
                )
            )
            for i in range(3 * args.seeds)
        ]
        n = args.seeds
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            compare(
                runs[:n],
                {"b": runs[n : 2 * n], "c": runs[2 * n :]},
                "test",
                METRIC_NAMES,
                "multi_label",
                args.labels,
                args.resamples,
            )
            times.append(time.perf_counter() - start)
    names = [f"l{i}" for i in range(args.labels)]
    sample = rng.integers(0, args.rows, args.rows)
    for _ in range(2):  # the second pass, imports paid
        start = time.perf_counter()
        for metric in METRIC_NAMES:
            METRICS[metric].compute(gold[sample], gold[sample], names)
        one = time.perf_counter() - start
    sides = "3 runs" if n == 1 else f"3 groups of {n} seeds"
    size = f"{args.resamples:,} resamples x {args.rows:,} rows x {args.labels} labels, {sides}"
    spread = f"min {min(times):.2f}, max {max(times):.2f}, {args.repeat} runs"
    print(
        f"{size}, {len(METRIC_NAMES)} metrics: median {statistics.median(times):.2f} s ({spread}); "
        f"scikit-learn, one resample of one run: {one * 1000:.1f} ms "
        f"(x {args.resamples * 3 * n:,} = {one * args.resamples * 3 * n:.0f} s done one resample at a time)"
    )


if __name__ == "__main__":
    main()
