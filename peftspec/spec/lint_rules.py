"""Warnings about specs that are valid but probably not what the author meant."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

from peftspec.spec.diagnostics import Diagnostic, KeyPath
from peftspec.spec.packaged import PackagedModelError, model_source, package_data_file, package_model_dir
from peftspec.spec.paths import PACKAGE_PREFIX, looks_like_path, nearby, path_fields
from peftspec.spec.root import Spec
from peftspec.spec.sources import RawSpec

Warning_ = tuple[KeyPath, str, str, str | None]  # path, code, message, suggestion


def trust_remote_code(spec: Spec, raw: RawSpec) -> Iterator[Warning_]:
    if spec.backbone.trust_remote_code:
        yield (
            ("backbone", "trust_remote_code"),
            "trust-remote-code",
            "trust_remote_code = true runs Python code from the model repository on this "
            "machine; pin backbone.revision to a commit you have reviewed",
            None,
        )


def pickle_weights(spec: Spec, raw: RawSpec) -> Iterator[Warning_]:
    if spec.backbone.allow_pickle_weights:
        yield (
            ("backbone", "allow_pickle_weights"),
            "pickle-weights",
            "allow_pickle_weights = true loads pickle files, which can run code on this machine; "
            "prefer a revision of the model with safetensors weights",
            None,
        )


def learning_rate(spec: Spec, raw: RawSpec) -> Iterator[Warning_]:
    """A rate more than 5x away from the default for this adapter kind and backbone size."""
    from peftspec.plan.learning_rate import backbone_size, default_learning_rate

    lr = spec.trainer.learning_rate
    if lr is None:
        return
    parameters, model_type = backbone_size(spec.backbone.model, spec.backbone.revision, quick=True)
    default = default_learning_rate(spec.adapter.kind, parameters, model_type)
    low, high = default.value / 5, default.value * 5
    if not low <= lr <= high:
        side = "low" if lr < low else "high"
        yield (
            ("trainer", "learning_rate"),
            "suspicious-learning-rate",
            f"learning_rate {lr:g} is unusually {side}: the default is {default.line()}, and "
            f"{low:g} to {high:g} usually trains",
            f"{default.value:g}",
        )


def pooling(spec: Spec, raw: RawSpec) -> Iterator[Warning_]:
    """A pooling chosen against what the backbone's files say it was trained with (local and
    packaged models, and Hub models already in the local cache; nothing is downloaded)."""
    from peftspec.spec.trained_pooling import trained_pooling

    chosen = spec.backbone.pooling
    if chosen == "auto":
        return
    try:
        source = model_source(spec.backbone.model)
    except PackagedModelError:
        return  # reported by missing_files
    trained = trained_pooling(source, spec.backbone.revision)
    if trained is not None and trained.exact and trained.method != chosen:
        yield (
            ("backbone", "pooling"),
            "pooling-mismatch",
            f"pooling = {chosen!r}, but the backbone was trained with {trained.method} pooling "
            f"({trained.file}: {trained.mode}); leave pooling unset (auto) to use it",
            "auto",
        )


def ignored_keys(spec: Spec, raw: RawSpec) -> Iterator[Warning_]:
    from peftspec.spec.ignored import ignored_keys as ignored

    for path, message in ignored(spec):
        table = raw.data
        for part in path[:-1]:
            table = table.get(part, {}) if isinstance(table, dict) else {}
        if isinstance(table, dict) and path[-1] in table:
            yield (path, "ignored-key", message, None)


def header_replaced(spec: Spec, raw: RawSpec) -> Iterator[Warning_]:
    reader = spec.dataset.reader
    if reader.column_names and reader.has_header:
        yield (
            ("dataset", "reader", "has_header"),
            "header-replaced",
            "has_header = true with column_names: the first row of every file is read as a header and "
            "dropped, its columns renamed; remove has_header if the files have no header row",
            None,
        )


def reader_options_unused(spec: Spec, raw: RawSpec) -> Iterator[Warning_]:
    """`reader.field` when no .json file is read; `reader.skip_rows` when no CSV, TSV file or
    workbook is; `reader.sheet` when no workbook is (a split's own sheet, when that split's files
    are not workbooks)."""
    from peftspec.spec.reader import SplitSheets, auto_format

    dataset, reader = spec.dataset, spec.dataset.reader
    files = {
        split: source
        for split in ("train", "validation", "test")
        if isinstance(source := getattr(dataset, split), list)
    }

    def reads(fmt: str, split: str | None = None) -> bool:
        chosen = [f for name, source in files.items() if split in (None, name) for f in source]
        return reader.format == fmt or (
            reader.format == "auto" and any(auto_format(f) == fmt for f in chosen)
        )

    if reader.field is not None and not reads("json"):
        message = "field is only read from .json files, and this spec reads none; remove it"
        yield (("dataset", "reader", "field"), "ignored-key", message, None)
    if reader.skip_rows and not any(reads(fmt) for fmt in ("csv", "tsv", "excel")):
        message = "skip_rows is only read from CSV and TSV files and workbooks, and this spec reads none"
        yield (("dataset", "reader", "skip_rows"), "ignored-key", message + "; remove it", None)
    if isinstance(reader.sheet, str) and not reads("excel"):
        message = "sheet is only read from Excel workbooks, and this spec reads none; remove it"
        yield (("dataset", "reader", "sheet"), "ignored-key", message, None)
    if isinstance(reader.sheet, SplitSheets):
        for split in files:
            if getattr(reader.sheet, split) is not None and not reads("excel", split):
                message = f"sheet.{split} is ignored: dataset.{split} names no Excel workbook"
                yield (("dataset", "reader", "sheet", split), "ignored-key", message, None)


def missing_files(spec: Spec, raw: RawSpec) -> Iterator[Warning_]:
    for path, marker in path_fields(spec):
        value = _value_at(spec, path)
        if value.startswith(PACKAGE_PREFIX):
            try:
                (package_model_dir if marker.maybe_hub else package_data_file)(value)
            except PackagedModelError as exc:
                # a lint-only install (CI, pre-commit) trains nothing: a model package it lacks is
                # no more a problem than a hub model not downloaded yet
                if not marker.maybe_hub or _can_train() or "leaves the package" in str(exc):
                    yield (path, "missing-package", str(exc), None)
            continue
        if "://" in value:
            continue
        if marker.maybe_hub and not looks_like_path(value) and not os.path.isabs(value):
            continue
        if not os.path.exists(value):
            yield (
                path,
                "missing-file",
                f"{value} does not exist (yet); `peftspec run` will fail unless it is there by then",
                nearby(value),  # a name in the same folder
            )


def _can_train() -> bool:
    """Whether the training extras are installed here (looked up, not imported)."""
    import importlib.util

    return importlib.util.find_spec("transformers") is not None


def _value_at(spec: Spec, path: KeyPath) -> str:
    node = spec
    for part in path:
        node = node[part] if isinstance(part, int) else getattr(node, part)
    return node


RULES: list[Callable[[Spec, RawSpec], Iterator[Warning_]]] = [
    trust_remote_code,
    pickle_weights,
    learning_rate,
    pooling,
    ignored_keys,
    header_replaced,
    reader_options_unused,
    missing_files,
]


def warnings_for(spec: Spec, raw: RawSpec) -> list[Diagnostic]:
    return [
        Diagnostic.at(raw.index.value(path), path, "warning", code, message, suggestion)
        for rule in RULES
        for path, code, message, suggestion in rule(spec, raw)
    ]
