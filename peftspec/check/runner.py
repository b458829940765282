"""`peftspec check`: a spec end to end on the CPU with a toy backbone of the same architecture.

Everything the spec names is exercised for real (its data, tokenisation, adapter and module names,
bitsandbytes quantisation, metrics, best-model selection, checkpoints, save and reload, the run
directory); only the sizes shrink. What a CPU cannot check is listed as such.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from peftspec.check.result import SpecCheck, StopCheck
from peftspec.spec.diagnostics import Diagnostic, KeyPath, Location
from peftspec.spec.loader import SpecReport, check_spec
from peftspec.spec.root import Spec


@dataclass
class CheckOptions:
    steps: int = 4
    """Optimizer steps of the toy training (evaluation and a checkpoint every half of them)."""
    keep_root: str | None = None
    """Write the toy run under this folder and keep it; unset = a temporary folder, removed."""
    overrides: Sequence[str] = ()


def check_file(path: str, options: CheckOptions) -> SpecCheck:
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
    from peftspec.check.stages import run_stages

    with tempfile.TemporaryDirectory(prefix="peftspec-check-") as scratch:
        run_stages(report, Locator(report), options, result, Path(scratch))


class Locator:
    """Turns a key path of the spec into an error diagnostic at the place it was written."""

    def __init__(self, report: SpecReport):
        self.report = report

    def error(self, path: KeyPath, code: str, message: str, suggestion: str | None = None) -> Diagnostic:
        index = self.report.index
        where = index.value(path) if index is not None else Location(self.report.file)
        return Diagnostic.at(where, path, "error", code, message, suggestion)

    @property
    def spec(self) -> Spec:
        assert self.report.spec is not None
        return self.report.spec


def quiet_console():
    from rich.console import Console

    return Console(file=io.StringIO(), width=120)


def local_sources(spec: Spec) -> list[str]:
    """The spec's data files (hub datasets are not files)."""
    files: list[str] = []
    for source in (spec.dataset.train, spec.dataset.validation, spec.dataset.test):
        if isinstance(source, list):
            files += source
        elif isinstance(source, str):
            files.append(source)
    return files


def absent(files: list[str]) -> list[str]:
    """The files that are not there (`package:` data resolved to the installed file)."""
    from peftspec.build.tables import local_path
    from peftspec.spec.packaged import PackagedModelError

    missing = []
    for f in files:
        try:
            path = local_path(f)
        except PackagedModelError:
            path = None
        if path is None or not os.path.exists(path):
            missing.append(f)
    return missing
