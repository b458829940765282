"""What the stages of `peftspec check` share: its options, locating a key path in the spec files,
a console that prints nowhere, and which data files are absent."""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from dataclasses import dataclass

from peftspec.spec.diagnostics import Diagnostic, KeyPath, Location
from peftspec.spec.loader import LoadResult
from peftspec.spec.root import Spec


@dataclass
class CheckOptions:
    steps: int = 4
    """Optimizer steps of the toy training (evaluation and a checkpoint every half of them)."""
    keep_root: str | None = None
    """Write the toy run under this folder and keep it; unset = a temporary folder, removed."""
    overrides: Sequence[str] = ()


class Locator:
    """Turns a key path of the spec into an error diagnostic at the place it was written."""

    def __init__(self, report: LoadResult):
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
