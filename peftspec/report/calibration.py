"""Whether each compared row's scores can be read as probabilities: a reliability diagram and the
expected calibration error and Brier score of every row on one split, computed from the recorded
predictions (`peftspec.metrics.calibration` says what is checked against what). Thresholds do not
enter: these figures are the same whether the run's thresholds were tuned on the split or not."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from peftspec.runs import Run, mean_sd
from peftspec.runs.reader import calibration_phrase

CHECKED = {
    "multi_label": "every (row, label) score against whether the label is gold",
    "binary": "the positive class's probability against whether the row is of that class",
    "multi_class": "the top class's probability (the model's confidence) against whether it is right",
}


@dataclass
class Calibrated:
    """One compared row's calibration on the split."""

    name: str
    table: Any
    """The reliability table (`calibration.Reliability`) of the row's runs, their rows pooled."""
    ece: tuple[float, float | None]
    """(value, spread over a group's runs or None)."""
    brier: tuple[float, float | None]
    runs: int


def calibrated(rows: list[dict[str, Any]], runs: list[Run], split: str) -> tuple[list[Calibrated], list[str]]:
    """(each compared row's calibration on `split`, the rows left out with why); `rows` from
    `compare_runs`, `runs` the runs behind them."""
    import numpy as np

    from peftspec.metrics.calibration import brier, ece, reliability

    by_name = {run.name: run for run in runs}
    out, missing = [], []
    for row in rows:
        golds, scores = [], []
        for name in row.get("members", [row["run"]]):
            frame = by_name[name].split_predictions(split)
            if frame is not None and frame.height:
                golds.append(np.asarray(frame["gold"].to_list()))
                scores.append(np.asarray(frame["scores"].to_list(), dtype=np.float64))
        if not golds:
            missing.append(f"{row['name']} (no {split} predictions)")
            continue
        figures = [(ece(g, s), brier(g, s)) for g, s in zip(golds, scores)]
        pooled = reliability(np.concatenate(golds), np.concatenate(scores))
        out.append(
            Calibrated(
                row["name"],
                pooled,
                _spread([e for e, _ in figures]),
                _spread([b for _, b in figures]),
                len(golds),
            )
        )
    return out, missing


def _spread(values: list[float]) -> tuple[float, float | None]:
    return (values[0], None) if len(values) == 1 else mean_sd(values)


def figure_text(value: tuple[float, float | None]) -> str:
    """`0.0421`, or `0.0421 ± 0.0030` for a group; `-` for a diverged run (NaN)."""
    mean, sd = value
    if mean != mean:
        return "-"
    return f"{mean:.4f}" + (f" ± {sd:.4f}" if sd is not None else "")


def calibration_caption(found: list[Calibrated], missing: list[str], split: str, runs: list[Run]) -> str:
    """What the reliability picture and its table show, for the report and the TUI alike."""
    tasks = {run.record.task or "multi_label" for run in runs}
    checked = "; ".join(CHECKED.get(task, task) for task in sorted(tasks))
    text = (
        f"Reliability on {split}: the scores cut into 15 equal-width bins; in each, the mean score "
        f"against how often its outcome happened (on the diagonal, a score of 0.8 comes true 80% of "
        f"the time; below it, the model is overconfident). Checked: {checked}. ECE: the gaps weighted "
        "by their rows; Brier: the mean squared gap between score and outcome; lower is better for "
        "both, and no threshold enters them."
    )
    if any(c.runs > 1 for c in found):
        text += (
            " A group pools its runs' rows in the picture; its ECE and Brier are the mean ± sd over its runs."
        )
    calibrated_runs = [(run.name, run.calibration()) for run in runs]
    for name, calibration in calibrated_runs:
        if calibration is not None:
            text += f" {name}: {calibration_phrase(calibration)}."
    if missing:
        text += f" Left out: {', '.join(missing)}."
    return text


def calibration_blocks(compared: Any, runs: list[Run], split: str, out: Path) -> list:
    """The report's calibration block under the overview (`compared`: a `compare.Compared`)."""
    from peftspec.report import plots
    from peftspec.report.document import Heading, Image, Para, Table

    found, missing = calibrated(compared.rows, runs, split)
    if not found:
        return []
    plots.reliability([(c.name, c.table, c.ece[0]) for c in found], out / "img" / "calibration.png")
    rows = [[c.name, f"{c.table.total:,}", figure_text(c.ece), figure_text(c.brier)] for c in found]
    return [
        Heading(3, f"Calibration ({split})"),
        Image("img/calibration.png", f"reliability diagram on {split}"),
        Table(["run", "scores", "ECE", "Brier"], rows, [False, True, True, True]),
        Para(calibration_caption(found, missing, split, runs)),
    ]
