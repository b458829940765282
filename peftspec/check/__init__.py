"""`peftspec check`: a spec end to end on the CPU with a toy backbone of the same architecture.

Everything the spec names is exercised for real (its data, tokenisation, adapter and module names,
bitsandbytes quantisation, metrics, best-model selection, checkpoints, save and reload, the run
directory); only the sizes shrink. What a CPU cannot check is listed as such.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from pathlib import Path

from peftspec.check.context import CheckOptions, Locator
from peftspec.check.result import SpecCheck, StopCheck
from peftspec.check.stages import run_stages
from peftspec.spec.loader import check_spec


def check_file(path: str, options: CheckOptions) -> SpecCheck:
    """Check one spec file; the result lists each thing checked (passed, failed, skipped, or not
    checkable on a CPU) with located diagnostics."""
    result = SpecCheck(path)
    started = time.perf_counter()
    with contextlib.suppress(StopCheck):
        _check(path, options, result)
    result.seconds = time.perf_counter() - started
    return result


def _check(path: str, options: CheckOptions, result: SpecCheck) -> None:
    report = check_spec(path, options.overrides)
    if report.spec is None:
        result.add(
            "spec", "failed", f"{len(report.errors)} problem(s), as `peftspec lint` reports", report.errors
        )
        raise StopCheck
    warned = f"; {len(report.warnings)} warning(s)" if report.warnings else ""
    result.add("spec", "passed", f"valid{warned}", report.warnings)
    from peftspec.build.environment import quiet_libraries

    quiet_libraries()  # as `run` does: no load report or save bar for the toy backbone
    with tempfile.TemporaryDirectory(prefix="peftspec-check-") as scratch:
        run_stages(report, Locator(report), options, result, Path(scratch))


__all__ = ["CheckOptions", "SpecCheck", "check_file"]
