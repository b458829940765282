"""`load_spec`: a spec file (plus overrides) -> a fully resolved, validated `Spec`."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

from pydantic import ValidationError

from peftspec.spec.diagnostics import Diagnostic, SpecError, allowed
from peftspec.spec.lint_rules import warnings_for
from peftspec.spec.paths import path_fields, resolve, set_at
from peftspec.spec.root import Spec
from peftspec.spec.sources import RawSpec, SourceIndex, read_raw
from peftspec.spec.translate import translate


@dataclass
class LoadResult:
    """The outcome of loading one spec: the resolved spec (if valid) and every diagnostic."""

    file: str
    spec: Spec | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    """The spec file and each base it extends, in that order."""
    index: SourceIndex | None = None
    """Where each key and value was written, to locate problems found later (`peftspec check`)."""

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]


def check_spec(path: str | os.PathLike, overrides: Sequence[str] = ()) -> LoadResult:
    """Load and validate `path`; never raises for problems in the spec, it reports them."""
    path = os.fspath(path)
    try:
        raw = read_raw(path, overrides)
    except SpecError as exc:
        return LoadResult(path, None, exc.diagnostics)
    try:
        spec = Spec.model_validate(raw.data)
    except ValidationError as exc:
        diagnostics = translate(exc, raw.data, raw.index, Spec)
        return LoadResult(path, None, sorted(diagnostics, key=Diagnostic.sort_key))
    if spec.sweep is not None:
        from peftspec.spec.sweep_check import trial_problems

        problems = trial_problems(raw.data, spec, raw.index)
        if problems:
            return LoadResult(path, None, sorted(problems, key=Diagnostic.sort_key))
    _resolve_paths(spec, raw)
    warnings = sorted((w for w in warnings_for(spec, raw) if not allowed(w)), key=Diagnostic.sort_key)
    return LoadResult(path, spec, warnings, list(raw.index.files), raw.index)


def load_spec(path: str | os.PathLike, overrides: Sequence[str] = ()) -> Spec:
    """The resolved `Spec` of `path` with `overrides` (`"trainer.learning_rate=2e-4"`)
    applied; raises `SpecError` holding every problem when it is invalid."""
    report = check_spec(path, overrides)
    if report.spec is None:
        raise SpecError(report.diagnostics)
    return report.spec


def load_recorded_spec(path: str | os.PathLike, overrides: Sequence[str] = ()) -> Spec:
    """A run directory's recorded spec (with `overrides`), for continuing that run or its group. A
    recorded spec writes every key with its value, so a key it lacks did not exist when the run
    started; such a key gets the value that repeats what the run did (`dataset.stratify`: false,
    the random hold-out of that time; `dataset.duplicates_together`: false, each row placed on its
    own)."""
    import tomllib

    spec = load_spec(path, overrides)
    with open(path, "rb") as handle:
        recorded = tomllib.load(handle).get("dataset", {})
    if "stratify" not in recorded:
        spec.dataset.stratify = False
    if "duplicates_together" not in recorded:  # recorded before copies of a text were kept together
        spec.dataset.duplicates_together = False
    return spec


def _resolve_paths(spec: Spec, raw: RawSpec) -> None:
    for key_path, marker in path_fields(spec):
        origin = raw.index.file_of(key_path)
        base_dir = os.getcwd() if origin.startswith("--set ") else os.path.dirname(os.path.abspath(origin))
        node = spec
        for part in key_path:
            node = node[part] if isinstance(part, int) else getattr(node, part)
        set_at(spec, key_path, resolve(node, base_dir, marker.maybe_hub))
