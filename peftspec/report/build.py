"""`peftspec report`: per-run sections, an overview across runs, observations, as Markdown, HTML and LaTeX."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from peftspec.metrics.confused import confused_line
from peftspec.metrics.registry import higher_is_better, scalar_metrics
from peftspec.report import plots
from peftspec.report.calibration import calibration_blocks
from peftspec.report.columns import (
    Column,
    caption,
    data_groups,
    ranked,
    shown_columns,
)
from peftspec.report.compare import default_split, ranked_cells
from peftspec.report.document import Block, Bold, Bullets, Heading, Image, Para, Table, to_html, to_markdown
from peftspec.report.fit import fit_of, group_fit
from peftspec.report.latex import to_latex
from peftspec.report.mistakes import mistakes_blocks
from peftspec.report.per_label import per_label_blocks
from peftspec.report.settings import settings_blocks
from peftspec.runs import Run, group_name, grouped, short_names
from peftspec.runs.layout import AT_HALF_KEY, CROSSFIT_KEY
from peftspec.runs.reader import DAMAGE, calibration_phrase
from peftspec.runs.record import task_line
from peftspec.spec.render import value_to_toml

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
    "dataset": [
        "max_length",
        "truncate",
        "validation_split",
        "stratify",
        "duplicates_together",
        "folds",
        "fold",
        "split_seed",
        "task",
    ],
    "metrics": ["threshold"],
}


def build_report(
    runs: list[Run], out: Path, split: str | None = None, baseline: Run | None = None, keys=None
) -> Path:
    """Write `report.md`, `report.html`, `report.tex` (for pdflatex) and `img/` (each figure as PNG
    and PDF) under `out`; returns the Markdown path. The overview ranks on `split` (by default test
    where every run has one, else validation), in the columns `keys` (default: all). With a
    `baseline`, it adds every difference to it with its interval (paired bootstrap)."""
    out.mkdir(parents=True, exist_ok=True)
    split = default_split(runs if baseline is None else [*runs, baseline], split)
    if baseline is not None and baseline.name not in {run.name for run in runs}:
        runs = [baseline, *runs]
    names = short_names(runs)
    blocks: list[Block] = [
        Heading(1, "peftspec report"),
        Para(
            f"{len(runs)} run(s), generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. Every figure below "
            "is read from the run directories named in each section; nothing is typed in."
        ),
    ]
    blocks += overview(runs, split, baseline, out, keys)
    for run in runs:
        blocks += run_section(run, out, names[run.name])
    markdown = out / "report.md"
    markdown.write_text(to_markdown(blocks), encoding="utf-8")
    (out / "report.html").write_text(to_html(blocks, "peftspec report"), encoding="utf-8")
    (out / "report.tex").write_text(to_latex(blocks), encoding="utf-8")
    return markdown


def overview(
    runs: list[Run], split: str, baseline: Run | None = None, out: Path | None = None, keys=None
) -> list[Block]:
    from peftspec.report.compare import compare_runs

    compared = compare_runs(runs, baseline, split, columns=keys)
    rows = compared.rows
    columns = shown_columns(rows, keys)
    table_rows = ranked_cells(rows, columns, Bold)
    return [
        Heading(2, f"Overview ({split})"),
        Para(
            f"{caption(rows, columns)} Best value of each ranked column in **bold**; validation loss "
            "and wall time: lower is better; training losses are not ranked."
        ),
        Table([c.title for c in columns], table_rows, [c.key != "name" for c in columns]),
        *settings_blocks(compared),
        *_significance_blocks(compared),
        *per_label_blocks(compared, runs, split),
        *(_safe_calibration(compared, runs, split, out) if out is not None else []),
        Heading(3, "Observations"),
        Bullets(observations(rows, runs)),
    ]


def _safe_calibration(compared, runs: list[Run], split: str, out: Path) -> list[Block]:
    """The calibration block; left out, with a note, when a run's predictions are damaged."""
    try:
        return calibration_blocks(compared, runs, split, out)
    except DAMAGE as exc:
        return [
            Heading(3, f"Calibration ({split})"),
            Para(f"Cannot be shown: a run's files are damaged (`{exc!r}`)."),
        ]


def _significance_blocks(compared) -> list[Block]:
    """The differences to the baseline with their intervals, and the protocol in one sentence."""
    if compared.comparison is None:
        return [Para(f"No intervals: {compared.note}")] if compared.note else []
    from peftspec.report.significance_table import significance_table

    comparison = compared.comparison
    return [
        Heading(3, f"Against {comparison.baseline}"),
        significance_table(comparison),
        Para(comparison.protocol()),
    ]


def observations(rows: list[dict[str, Any]], runs: list[Run]) -> list[str]:
    notes = []
    names = short_names(runs)
    groups = data_groups(rows)
    for metric, group in ((m, g) for g in groups for m in [*scalar_metrics(), "val_loss"]):
        column = Column(metric, metric)
        scored = [
            (r[metric], i)
            for i, r in enumerate(group)
            if isinstance(r.get(metric), int | float) and ranked(r, column)
        ]
        if len(scored) > 1:
            value, at = max(scored) if higher_is_better(metric.removeprefix("val_")) else min(scored)
            where = "validation" if metric == "val_loss" else rows[0]["split"]
            if len(groups) > 1:  # among the runs of one data set only
                where += f"; {group[0].get('scored_on') or 'data not recorded'}"
            tested = _tested(group[at], group, metric)
            notes.append(f"Best {metric} ({where}): `{group[at]['name']}` ({value:.4f}){tested}.")
    for members in grouped(runs):
        fits = []
        shared = (
            set.intersection(*(set(run.record.data_warnings) for run in members))
            if len(members) > 1
            else set()
        )
        notes += [f"`{group_name(members)}` (all its runs): **data warning**: {w}." for w in sorted(shared)]
        for run in members:
            notes += [
                f"`{names[run.name]}`: **data warning**: {w}."
                for w in run.record.data_warnings
                if w not in shared
            ]
            warnings = run.evaluation_warnings()
            notes += [f"`{names[run.name]}`: **warning**: {w}." for w in warnings]
            fits.append(fit_of(run, warnings))
        if len(members) > 1:  # a group's curves in one line: how many of its runs say what
            line = group_fit(members, fits)
            notes += [f"`{group_name(members)}`: {line}."] if line else []
        elif fits[0] is not None:
            notes.append(f"`{names[members[0].name]}`: {fits[0].text}.")
    return notes or ["One run: nothing to compare."]


def _tested(pick: dict[str, Any], rows: list[dict[str, Any]], metric: str) -> str:
    """What the bootstrap against the baseline says of the best row on `metric`, where it tested
    it: a best that no test separates from the baseline is no ranking."""
    key = f"{metric}_significant"
    tested = [r for r in rows if isinstance(r.get(key), bool)]
    if not tested:
        return ""
    if isinstance(pick.get(key), bool):
        verdict = "significantly" if pick[key] else "not significantly"
        return f", {verdict} different from the baseline (Holm p {pick[f'{metric}_p_holm']:.4f})"
    if pick.get(f"{metric}_delta") == 0:  # the baseline itself
        apart = [r["name"] for r in tested if r[key]]
        return ", the baseline" + (
            f"; significantly different from it: {', '.join(apart)}"
            if apart
            else ": no row differs significantly"
        )
    return ""


def run_section(run: Run, out: Path, name: str | None = None) -> list[Block]:
    img = out / "img" / run.name
    blocks: list[Block] = [
        Heading(2, f"Run {name or run.display_name}"),
        Para(f"Run directory: `{run.path}`; status **{run.status}**."),
    ]
    blocks += [Para(f"**Data warning**: {w}.") for w in run.record.data_warnings]
    blocks += _safely(run, "Model", lambda: model_table(run))
    blocks += _safely(run, "Training", lambda: training_blocks(run, img))
    blocks += _safely(run, "Evaluation", lambda: evaluation_tables(run))
    blocks += _safely(
        run,
        "Hyperparameters",
        lambda: [Heading(3, "Hyperparameters"), Table(["key", "value"], hyperparameters(run.spec_dict()))],
    )
    blocks += _safely(run, "Confusion matrices", lambda: confusion_blocks(run, img))
    blocks += _safely(run, "Most confident mistakes", lambda: mistakes_blocks(run))
    error = run.record.error
    if error is not None:
        blocks.append(Para(f"Error: `{error.type}: {error.message}`"))
    return blocks


def _safely(run: Run, title: str, section) -> list[Block]:
    """`section()`, or a note that it cannot be shown when the run's files are damaged (the report
    goes on; the damage is added to the run's warnings)."""
    try:
        return section()
    except DAMAGE as exc:
        run.warnings.append(f"report: {title.lower()} left out, the run's files are damaged ({exc!r})")
        return [Heading(3, title), Para(f"Cannot be shown: the run's files are damaged (`{exc!r}`).")]


def training_blocks(run: Run, img: Path) -> list[Block]:
    plots.curves(run, img / "curves.png")
    return [
        Heading(3, "Training"),
        Image(f"img/{run.name}/curves.png", f"{run.name} learning curves"),
        Table(["figure", "value"], training_facts(run), [False, True]),
    ]


def model_table(run: Run) -> list[Block]:
    record, overview, model = run.record, run.record.overview, run.record.model
    total = overview.total_parameters if overview else None
    trainable = overview.trainable_parameters if overview else None
    share = f" ({trainable / total:.2%})" if total and trainable is not None else ""
    rows = [
        ["backbone", str(record.backbone)],
        ["architecture", str(model.architecture if model else "-")],
        ["adapter", str(overview.adapter if overview else record.adapter)],
        ["wrapped modules", ", ".join(model.wrapped_modules if model else []) or "-"],
        ["quantisation", str(record.quantization)],
        ["parameters", f"{trainable:,} trainable of {total:,}{share}" if total else "-"],
        ["task", task_line(record.task, len(record.labels), record.positive_class)],
        ["rows", ", ".join(f"{k} {v:,}" for k, v in record.rows.items())],
        *([["held out", overview.held_out]] if overview and overview.held_out else []),
        *([["truncated", overview.truncated]] if overview and overview.truncated else []),
        *([["decisions", overview.decisions]] if overview and overview.decisions else []),
        ["device, precision", f"{overview.device if overview else '-'}, {record.precision or '-'}"],
    ]
    return [Heading(3, "Model"), Table(["", ""], rows)]


def training_facts(run: Run) -> list[list[str]]:
    record, best = run.record, run.record.best
    return [
        ["final training loss", _num(run.final_train_loss)],
        ["best training loss", _num(run.best_train_loss)],
        ["optimizer steps", str(run.last_step if run.last_step is not None else "-")],
        ["wall time (s)", _num(record.duration_s, 1)],
        [
            "best checkpoint",
            f"{best.metric} = {_num(best.value)} at step {best.step}" if best else "-",
        ],
    ]


def evaluation_tables(run: Run) -> list[Block]:
    splits = [s for s in ("validation", "test") if run.split_metrics(s)]
    if not splits:
        return [Heading(3, "Evaluation"), Para("No final evaluation recorded.")]
    used = run.thresholds_used()
    columns: list[tuple[str, dict[str, Any]]] = []
    for split in splits:
        metrics = run.split_metrics(split)
        columns.append((split, metrics))
        if isinstance(metrics.get(CROSSFIT_KEY), dict):
            columns.append((f"{split} cross-fit", metrics[CROSSFIT_KEY]))
        if isinstance(metrics.get(AT_HALF_KEY), dict):
            columns.append((f"{split} @0.5", metrics[AT_HALF_KEY]))
    names = [k for k, v in run.split_metrics(splits[0]).items() if isinstance(v, int | float)]
    digits = {"runtime": 2, "samples_per_second": 1, "steps_per_second": 2}  # seconds and rates
    rows = [[name, *(_num(values.get(name), digits.get(name, 4)) for _, values in columns)] for name in names]
    blocks: list[Block] = [
        Heading(3, "Evaluation"),
        Table(["metric", *(title for title, _ in columns)], rows, [False] + [True] * len(columns)),
    ]
    if run.threshold_protocol() is not None:
        blocks.append(
            Para(
                f"Thresholds {run.threshold_protocol()}: the figures on that split are "
                "optimistic; its cross-fit column decides each half by thresholds tuned on the other "
                "half; the @0.5 columns score every label at threshold 0.5"
                + (" (this binary task: its arg-max)." if run.record.task == "binary" else ".")
            )
        )
    if (calibration := run.calibration()) is not None:
        blocks.append(
            Para(
                f"Scores: {calibration_phrase(calibration)}; ECE and Brier at it are optimistic on "
                "that split, and its cross-fit column scores each half with a temperature fitted on "
                "the other half."
            )
        )
    blocks += [Para(f"**Warning**: {w}.") for w in run.evaluation_warnings()]
    thresholds = used.get("values") or {}
    untuned = used.get("untuned") or {}
    per_label = run.split_metrics(splits[-1]).get("per_label") or {}
    if per_label:
        label_rows = [
            [
                name,
                _num(v["precision"]),
                _num(v["recall"]),
                _num(v["f1"]),
                str(v["support"]),
                (_num(thresholds.get(name), 2) + (" (not tuned)" if name in untuned else ""))
                if thresholds
                else "argmax",
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


def confusion_blocks(run: Run, img: Path) -> list[Block]:
    confusion = run.confusion() or {}
    blocks: list[Block] = [Heading(3, "Confusion matrices")]
    for split, data in confusion.items():
        path = img / f"confusion-{split}.png"
        if data.get("kind") == "per_label":
            per_label = run.split_metrics(split).get("per_label") or {}
            plots.confusion_per_label(data, per_label, path)
            caption = f"{split}: one 2x2 per label (rows = gold not/is, columns = predicted), worst F1 first"
        else:
            plots.confusion_matrix(data, path)
            caption = f"{split}: rows = gold, columns = predicted, colour = row rate"
            confused = confused_line(data["labels"], data["matrix"])
            caption += f"; {confused}" if confused else ""
        blocks += [
            Para(caption),
            Image(f"img/{run.name}/{path.name}", f"{run.name} confusion {split}"),
        ]
    return blocks if len(blocks) > 1 else [*blocks, Para("No confusion matrices recorded.")]


def hyperparameters(spec: dict[str, Any]) -> list[list[str]]:
    rows = []
    for section, keys in HYPERPARAMETERS.items():
        table = spec.get(section) or {}
        for key in keys or table:
            if key in table and not isinstance(table[key], dict):
                rows.append([f"{section}.{key}", value_to_toml(table[key])])
    return rows


def _num(value: Any, digits: int = 4) -> str:
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return "-" if value is None else str(value)
