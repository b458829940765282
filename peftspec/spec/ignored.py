"""The keys of a spec that nothing reads, given its other settings (`fold` without `folds`,
`validation_split` beside a validation file, `epochs` under `max_steps`, ...): one home for lint's
`ignored-key` warnings, and for the resolved spec a run records and `peftspec render` prints,
which leave them out, so that they lint clean and say only what applies."""

from __future__ import annotations

from peftspec.spec.reader import SplitSheets
from peftspec.spec.root import Spec


def ignored_keys(spec: Spec) -> list[tuple[tuple[str, ...], str]]:
    """(key path, why it is ignored) for every key `spec` would ignore if it were set."""
    out: list[tuple[tuple[str, ...], str]] = []
    dataset = spec.dataset
    if dataset.validation is not None:
        for key in ("validation_split", "stratify", "duplicates_together"):
            out.append((("dataset", key), f"{key} is ignored because dataset.validation is given"))
    elif not dataset.stratify:
        out.append(
            (
                ("dataset", "duplicates_together"),
                "duplicates_together is ignored with stratify = false: the random split places each row "
                "alone",
            )
        )
    if dataset.folds is not None and dataset.validation is None:
        out.append(
            (
                ("dataset", "validation_split"),
                "validation_split is ignored because dataset.folds is set: each fold is validated on in turn",
            )
        )
    if dataset.folds is None:
        out.append(
            (
                ("dataset", "fold"),
                "fold is ignored without dataset.folds (how many folds the training data is cut into)",
            )
        )
    if dataset.task == "multi_class":
        out.append(
            (
                ("metrics", "threshold"),
                "threshold is ignored: a multi-class task decides by the highest score (with two classes, "
                'set dataset.task = "binary" to decide the positive class at a threshold)',
            )
        )
    sheet = dataset.reader.sheet
    for split in ("validation", "test") if isinstance(sheet, SplitSheets) else ():
        source = getattr(dataset, split)
        if getattr(sheet, split) is not None and not isinstance(source, list):
            read = "is a hub dataset" if source is not None else "is unset (set it to the workbook)"
            out.append(
                (("dataset", "reader", "sheet", split), f"sheet.{split} is ignored: dataset.{split} {read}")
            )
    if spec.trainer.max_steps is not None:
        out.append((("trainer", "epochs"), "epochs is ignored because trainer.max_steps is set"))
    return out


def without_ignored(data: dict, spec: Spec) -> dict:
    """`data` (the spec dumped as a dict) less the keys `spec` ignores."""
    for path, _ in ignored_keys(spec):
        *parents, key = path
        table = data
        for part in parents:
            table = table.get(part, {})
        table.pop(key, None)
    return data
