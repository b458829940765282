"""`peftspec report`: per-run sections, an overview across runs, observations, as Markdown and HTML."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from peftspec.report import plots
from peftspec.report.columns import best_values, fmt, present_columns
from peftspec.report.compare import comparison_rows
from peftspec.report.document import Block, Bold, Bullets, Heading, Image, Para, Table, to_html, to_markdown
from peftspec.report.summary import SCALAR_METRICS, RunSummary

HYPERPARAMETERS = {
    "trainer": [
        "epochs",
        "max_steps",
        "batch_size",
        "gradient_accumulation_steps",
        "learning_rate",
        "lr_scheduler",
        "warmup_ratio",
        "warmup_steps",
        "optimizer",
        "weight_decay",
        "max_grad_norm",
        "precision",
        "gradient_checkpointing",
        "eval_strategy",
        "eval_steps",
        "best_metric",
        "seed",
    ],
    "adapter": None,  # every key
    "quantization": None,
    "dataset": ["max_length", "validation_split", "split_seed", "task"],
    "metrics": ["threshold"],
}


def build_report(summaries: list[RunSummary], out: Path, split: str = "validation") -> Path:
    """Write `report.md`, `report.html` and `img/` under `out`; returns the Markdown path."""
    out.mkdir(parents=True, exist_ok=True)
    blocks: list[Block] = [
        Heading(1, "peftspec report"),
        Para(
            f"{len(summaries)} run(s), generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. Every figure below "
            "is read from the run directories named in each section; nothing is typed in."
        ),
    ]
    blocks += overview(summaries, split)
    for summary in summaries:
        blocks += run_section(summary, out)
    markdown = out / "report.md"
    markdown.write_text(to_markdown(blocks), encoding="utf-8")
    (out / "report.html").write_text(to_html(blocks, "peftspec report"), encoding="utf-8")
    return markdown


def overview(summaries: list[RunSummary], split: str) -> list[Block]:
    rows = comparison_rows(summaries, split)
    columns = present_columns(rows)
    best = best_values(rows, columns)
    table_rows = [
        [
            Bold(fmt(r.get(c.key), c))
            if c.key in best and r.get(c.key) == best[c.key]
            else fmt(r.get(c.key), c)
            for c in columns
        ]
        for r in rows
    ]
    return [
        Heading(2, f"Overview ({split})"),
        Para("Best value of each column in **bold**. Losses and wall time: lower is better."),
        Table([c.title for c in columns], table_rows, [c.key != "run" for c in columns]),
        Heading(3, "Observations"),
        Bullets(observations(rows, summaries)),
    ]


def observations(rows: list[dict[str, Any]], summaries: list[RunSummary]) -> list[str]:
    notes = []
    for metric in [*SCALAR_METRICS, "val_loss"]:
        scored = [(r[metric], r["run"]) for r in rows if isinstance(r.get(metric), int | float)]
        if len(scored) > 1:
            pick = min(scored) if metric == "val_loss" else max(scored)
            notes.append(f"Best {metric}: `{pick[1]}` ({pick[0]:.4f}).")
    for summary in summaries:
        train, val = summary.final_train_loss, summary.split_metrics("validation").get("loss")
        if isinstance(train, float) and isinstance(val, float):
            gap = val - train
            verdict = (
                "validation loss well above training loss: overfitting"
                if gap > 0.1 * max(val, 1e-9)
                else "no sign of overfitting"
            )
            notes.append(
                f"`{summary.name}`: final training loss {train:.4f}, validation loss {val:.4f} "
                f"(gap {gap:+.4f}): {verdict}."
            )
    return notes or ["One run: nothing to compare."]


def run_section(summary: RunSummary, out: Path) -> list[Block]:
    info, img = summary.info, out / "img" / summary.name
    blocks: list[Block] = [
        Heading(2, f"Run {summary.name}"),
        Para(f"Run directory: `{summary.run.path}`; status **{summary.run.status}**."),
    ]
    blocks += model_table(summary)
    plots.curves(summary, img / "curves.png")
    blocks += [
        Heading(3, "Training"),
        Image(f"img/{summary.name}/curves.png", f"{summary.name} learning curves"),
        Table(["figure", "value"], training_facts(summary), [False, True]),
    ]
    blocks += evaluation_tables(summary)
    blocks += [Heading(3, "Hyperparameters"), Table(["key", "value"], hyperparameters(summary.spec))]
    blocks += confusion_blocks(summary, img)
    if info.get("error"):
        blocks.append(Para(f"Error: `{info['error'].get('type')}: {info['error'].get('message')}`"))
    return blocks


def model_table(summary: RunSummary) -> list[Block]:
    info, plan = summary.info, summary.info.get("plan") or {}
    model = info.get("model") or {}
    total, trainable = plan.get("total_parameters"), plan.get("trainable_parameters")
    share = f" ({trainable / total:.2%})" if total and trainable is not None else ""
    rows = [
        ["backbone", str(info.get("backbone"))],
        ["architecture", str(model.get("architecture", "-"))],
        ["adapter", str(plan.get("adapter", info.get("adapter")))],
        ["wrapped modules", ", ".join(model.get("wrapped_modules") or []) or "-"],
        ["quantisation", str(info.get("quantization"))],
        ["parameters", f"{trainable:,} trainable of {total:,}{share}" if total else "-"],
        ["task", f"{info.get('task')}, {len(info.get('labels') or [])} labels"],
        ["rows", ", ".join(f"{k} {v:,}" for k, v in (info.get("rows") or {}).items())],
        ["device, precision", f"{plan.get('device', '-')}, {info.get('precision', '-')}"],
    ]
    return [Heading(3, "Model"), Table(["", ""], rows)]


def training_facts(summary: RunSummary) -> list[list[str]]:
    info, best = summary.info, summary.info.get("best") or {}
    value = best.get("value")
    return [
        ["final training loss", _num(summary.final_train_loss)],
        ["best training loss", _num(summary.best_train_loss)],
        ["optimizer steps", str(info.get("steps", "-"))],
        ["wall time (s)", _num(info.get("duration_s"), 1)],
        [
            "best checkpoint",
            f"{best.get('metric')} = {_num(value)} at step {best.get('step')}" if best else "-",
        ],
    ]


def evaluation_tables(summary: RunSummary) -> list[Block]:
    splits = [s for s in ("validation", "test") if summary.split_metrics(s)]
    if not splits:
        return [Heading(3, "Evaluation"), Para("No final evaluation recorded.")]
    names = [k for k, v in summary.split_metrics(splits[0]).items() if isinstance(v, int | float)]
    rows = [[name, *(_num(summary.split_metrics(s).get(name)) for s in splits)] for name in names]
    blocks: list[Block] = [
        Heading(3, "Evaluation"),
        Table(["metric", *splits], rows, [False] + [True] * len(splits)),
    ]
    thresholds = (summary.evaluation.get("thresholds") or {}).get("values") or {}
    per_label = summary.split_metrics(splits[-1]).get("per_label") or {}
    if per_label:
        label_rows = [
            [
                name,
                _num(v["precision"]),
                _num(v["recall"]),
                _num(v["f1"]),
                str(v["support"]),
                _num(thresholds.get(name), 2) if thresholds else "argmax",
            ]
            for name, v in per_label.items()
        ]
        blocks += [
            Heading(3, f"Per-label results ({splits[-1]})"),
            Table(
                ["label", "precision", "recall", "F1", "support", "threshold"],
                label_rows,
                [False, True, True, True, True, True],
            ),
        ]
    return blocks


def confusion_blocks(summary: RunSummary, img: Path) -> list[Block]:
    confusion = summary.run.confusion() or {}
    blocks: list[Block] = [Heading(3, "Confusion matrices")]
    for split, data in confusion.items():
        path = img / f"confusion-{split}.png"
        if data.get("kind") == "per_label":
            per_label = summary.split_metrics(split).get("per_label") or {}
            plots.confusion_per_label(data, per_label, path)
            caption = f"{split}: one 2x2 per label (rows = gold not/is, columns = predicted), worst F1 first"
        else:
            plots.confusion_matrix(data, path)
            caption = f"{split}: rows = gold, columns = predicted, colour = row rate"
        blocks += [
            Para(caption),
            Image(f"img/{summary.name}/{path.name}", f"{summary.name} confusion {split}"),
        ]
    return blocks if len(blocks) > 1 else [*blocks, Para("No confusion matrices recorded.")]


def hyperparameters(spec: dict[str, Any]) -> list[list[str]]:
    rows = []
    for section, keys in HYPERPARAMETERS.items():
        table = spec.get(section) or {}
        for key in keys or table:
            if key in table and not isinstance(table[key], dict):
                rows.append([f"{section}.{key}", str(table[key])])
    return rows


def _num(value: Any, digits: int = 4) -> str:
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return "-" if value is None else str(value)
