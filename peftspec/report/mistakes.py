"""The rows a run got most confidently wrong, read from its recorded predictions: where label noise,
ambiguous texts and what the model misses show first. A mistake is a row whose recorded decision
differs from its gold labels; rows are ranked by their loss under the recorded scores (binary
cross-entropy summed over labels for a multi-label run, the gold class's negative log-probability
otherwise), so a confident wrong answer comes before a hesitant one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SHOWN = 10
"""Mistakes a report shows per run."""
OFF = 3
"""Decisions named per mistake (a multi-label row may be wrong on several labels)."""
EPSILON = 1e-7
"""Scores are clipped to [EPSILON, 1 - EPSILON] before the logarithm."""


@dataclass
class Mistake:
    id: str
    text: str
    gold: list[str]
    predicted: list[str]
    loss: float
    off: list[tuple[str, float, bool]]
    """The wrong decisions, most confident first: (label, its score, whether it is gold)."""

    def why(self) -> str:
        """`joy 0.97 (not gold); fear 0.03 (gold, missed)`."""
        return "; ".join(
            f"{label} {score:.2f} ({'gold, missed' if is_gold else 'not gold'})"
            for label, score, is_gold in self.off
        )


def confident_mistakes(
    frame: Any, task: str, labels: list[str], limit: int = SHOWN
) -> tuple[list[Mistake], int]:
    """(the `limit` wrong rows of `frame` with the highest loss, how many rows are wrong); `frame`
    holds one split's rows of predictions.parquet."""
    import numpy as np

    if frame is None or frame.height == 0:
        return [], 0
    gold = np.asarray(frame["gold"].to_list())
    pred = np.asarray(frame["predicted"].to_list())
    scores = np.clip(np.asarray(frame["scores"].to_list(), dtype=np.float64), EPSILON, 1 - EPSILON)
    if task == "multi_label":
        loss = -(gold * np.log(scores) + (1 - gold) * np.log(1 - scores)).sum(axis=1)
        wrong = (gold != pred).any(axis=1)
    else:
        loss = -np.log(scores[np.arange(len(gold)), gold])
        wrong = gold != pred
    loss = np.where(np.isfinite(loss), loss, np.inf)
    order = [int(i) for i in np.argsort(-loss, kind="stable") if wrong[i]][:limit]
    texts, ids = frame["text"].to_list(), frame["id"].to_list()
    pairs = frame["pair"].to_list() if "pair" in frame.columns else None
    out = []
    for i in order:
        if task == "multi_label":
            off_labels = np.flatnonzero(gold[i] != pred[i])
            off = sorted(
                ((labels[j], float(scores[i, j]), bool(gold[i, j])) for j in off_labels),
                key=lambda o: -abs(float(o[2]) - o[1]),
            )[:OFF]
            gold_names = [labels[j] for j in np.flatnonzero(gold[i])]
            pred_names = [labels[j] for j in np.flatnonzero(pred[i])]
        else:
            g, p = int(gold[i]), int(pred[i])
            off = [(labels[p], float(scores[i, p]), False), (labels[g], float(scores[i, g]), True)]
            gold_names, pred_names = [labels[g]], [labels[p]]
        text = str(texts[i]) if pairs is None else f"{texts[i]} / {pairs[i]}"
        out.append(Mistake(str(ids[i]), text, gold_names, pred_names, float(loss[i]), off))
    return out, int(wrong.sum())


def shorten(text: str, width: int = 160) -> str:
    """One line of at most `width` characters, cut with an ellipsis."""
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1].rstrip() + "…"


def mistakes_blocks(run: Any) -> list:
    """A run's report section: its most confident mistakes on test (else validation), as a table."""
    from peftspec.report.document import Heading, Para, Table

    if not run.record.labels:
        return []
    for split in ("test", "validation"):  # each file read once
        rows = run.split_predictions(split)
        if rows is not None:
            break
    else:
        return []
    found, wrong = confident_mistakes(rows, run.record.task or "multi_label", list(run.record.labels))
    if not found:
        return []
    return [
        Heading(3, f"Most confident mistakes ({split})"),
        Para(
            f"{wrong:,} of the {rows.height:,} {split} rows have a wrong decision (at the recorded "
            f"thresholds{'; on any label' if run.record.task == 'multi_label' else ''}); these "
            f"{len(found)} have the highest loss under the model's scores, so the "
            "model was surest and wrong: read them for label noise, ambiguous texts and what the model "
            "misses. Each names its wrong decisions, the most confident first, with the score."
        ),
        Table(
            ["id", "text", "gold", "predicted", "wrong decisions"],
            [
                [
                    m.id,
                    shorten(m.text),
                    ", ".join(m.gold) or "(none)",
                    ", ".join(m.predicted) or "(none)",
                    m.why(),
                ]
                for m in found
            ],
        ),
    ]
