"""Each label's F1 side by side across compared runs (a group: the mean over its runs ± their
spread): which labels a configuration helps, where the single macro figure hides it. Read from each
run's recorded per-label figures on the compared split; runs that tuned their thresholds on that
split have only optimistic per-label figures there (the cross-fitted evaluation records scalars),
so such a table says so and ranks nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from peftspec.runs import Run, mean_sd


@dataclass
class PerLabel:
    split: str
    names: list[str]
    """The compared rows' names, in the comparison's order."""
    labels: list[str]
    support: list[int | None]
    f1: list[list[tuple[float | None, float | None]]] = field(default_factory=list)
    """[label][row]: (F1, the spread over a group's runs or None)."""
    optimistic: list[str] = field(default_factory=list)
    """Rows whose figures here were decided at thresholds tuned on these rows."""
    baseline: int | None = None
    """The baseline row's position, when there is one: deltas are against it."""
    tested: dict[tuple[int, int], Any] = field(default_factory=dict)
    """(label, row) -> its `significance.Difference` to the baseline, when tested (`test_labels`)."""
    protocol: str | None = None
    """How the differences were tested, when they were."""

    def caption(self) -> str:
        text = (
            f"F1 of each label on {self.split} (support: its rows there), at each run's recorded "
            "thresholds; a group shows the mean over its runs ± their standard deviation."
        )
        if self.optimistic:
            text += (
                f" {', '.join(self.optimistic)} tuned thresholds on these rows, so their per-label "
                "figures here are optimistic and nothing is ranked; compare on a split they were not "
                "tuned on (a test file) for figures to rank."
            )
        elif len(self.names) > 1:
            text += " The best of each label in bold."
        if self.protocol is not None:
            text += (
                " * marks a label whose F1 differs from the baseline's significantly (each label of "
                f"each run one comparison). {self.protocol}"
            )
        elif len(self.names) > 1:
            text += (
                " No test stands behind these differences: a label's F1 on few rows (its support) "
                "moves a lot with each one."
            )
        return text

    def best(self, i: int) -> set[int]:
        """The rows holding label `i`'s best F1 (none when the figures may not be ranked)."""
        values = [v for v, _ in self.f1[i]]
        known = [v for v in values if v is not None]
        if self.optimistic or len(known) < 2:
            return set()
        top = max(known)
        return {j for j, v in enumerate(values) if v == top}

    def cells(self, i: int) -> list[str]:
        out = []
        base = self.f1[i][self.baseline][0] if self.baseline is not None else None
        for value, spread in self.f1[i]:
            if value is None:
                out.append("-")
                continue
            text = f"{value:.4f}" + (f" ± {spread:.4f}" if spread is not None else "")
            if base is not None:
                text += f" ({value - base:+.4f})"
            tested = self.tested.get((i, len(out)))
            if tested is not None and tested.significant:
                text += " *"
            out.append(text)
        return out

    def support_text(self, i: int) -> str:
        support = self.support[i]
        return f"{support:,}" if support is not None else "-"

    def long_rows(self) -> list[dict[str, Any]]:
        """One row per (label, compared row), for JSON and CSV."""
        return [
            {
                "label": label,
                "support": self.support[i],
                "name": name,
                "split": self.split,
                "f1": self.f1[i][j][0],
                "f1_std": self.f1[i][j][1],
                "optimistic": name in self.optimistic,
                **_tested_keys(self.tested.get((i, j))),
            }
            for i, label in enumerate(self.labels)
            for j, name in enumerate(self.names)
        ]


def _tested_keys(difference) -> dict[str, Any]:
    if difference is None:
        return {}
    keys = ("delta", "low", "high", "p", "p_folds", "p_holm", "significant")
    return {f"f1_{key}": getattr(difference, key) for key in keys}


def test_labels(
    table: PerLabel, rows: list[dict[str, Any]], runs: list[Run], resamples: int = 10_000, seed: int = 0
) -> str | None:
    """Test each label's F1 difference to the baseline row as `compare --baseline` tests a metric
    (the paired bootstrap, Holm over every label of every row); the result goes into `table`.
    Returns why nothing was tested (no baseline, figures tuned on these rows, no predictions)."""
    from peftspec.metrics.resampled import label_f1
    from peftspec.report import significance

    if table.baseline is None or len(rows) < 2:
        return "no baseline"
    if table.optimistic:
        return "thresholds tuned on these rows"
    by_name = {run.name: run for run in runs}

    def members(row) -> list[Run]:
        return [by_name[name] for name in row.get("members", [row["run"]])]

    base = rows[table.baseline]
    order = list(members(base)[0].record.labels)
    labels = {label_f1(order.index(label)): i for i, label in enumerate(table.labels) if label in order}
    others = {row["name"]: members(row) for row in rows if row is not base}
    task = members(base)[0].record.task or "multi_label"
    try:
        found = significance.compare(
            members(base), others, table.split, list(labels), task, len(order), resamples, seed, base["name"]
        )
    except significance.Unpaired as exc:
        return exc.message
    positions = {name: j for j, name in enumerate(table.names)}
    for difference in found.differences:
        table.tested[(labels[difference.metric], positions[difference.name])] = difference
    table.protocol = found.protocol()
    return None


class NoPerLabel(ValueError):
    """The rows cannot be shown label by label (no per-label figures, or other label sets)."""


def per_label(
    rows: list[dict[str, Any]], runs: list[Run], split: str, baseline: str | None = None
) -> PerLabel:
    """Each label's F1 for every compared row (`rows` from `compare_runs`, `runs` the runs behind
    them); `NoPerLabel` when the runs were scored on different label sets or recorded none."""
    by_name = {run.name: run for run in runs}
    sets = {row.get("label_set") for row in rows}
    if len(sets) > 1:
        raise NoPerLabel("these runs have different label sets, so their labels cannot be put side by side")
    figures: list[list[dict[str, Any]]] = []
    for row in rows:
        members = [by_name[name] for name in row.get("members", [row["run"]])]
        figures.append([run.split_metrics(split).get("per_label") or {} for run in members])
    labels = next((list(f[0]) for f in figures if f and f[0]), [])
    if not labels:
        raise NoPerLabel(f"no run recorded per-label figures on {split} (metrics.names lacks per_label?)")
    table = PerLabel(split, [row["name"] for row in rows], labels, [None] * len(labels))
    table.optimistic = [
        row["name"]
        for row in rows
        if row.get("thresholds_tuned_on") == split and row.get("thresholds") == "tuned"
    ]
    table.baseline = next((j for j, row in enumerate(rows) if row["run"] == baseline), None)
    for i, label in enumerate(labels):
        line = []
        for member_figures in figures:
            f1 = [_number(f.get(label, {}).get("f1")) for f in member_figures]
            f1 = [v for v in f1 if v is not None]
            if not f1:
                line.append((None, None))
            elif len(f1) == 1:
                line.append((f1[0], None))
            else:
                line.append(mean_sd(f1))
        table.f1.append(line)
        supports = (f.get(label, {}).get("support") for member_figures in figures for f in member_figures)
        table.support[i] = next((n for n in supports if isinstance(n, int)), None)
    return table


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def per_label_markdown(table: PerLabel) -> str:
    from peftspec.report.compare import markdown_table

    header = ["label", "support", *table.names]
    cells = []
    for i, label in enumerate(table.labels):
        best = table.best(i)
        values = [_bold(c) if j in best else c for j, c in enumerate(table.cells(i))]
        cells.append([label, table.support_text(i), *values])
    lines = markdown_table(header, cells, [False, True, *([True] * len(table.names))])
    return "\n".join(lines) + f"\n\n{table.caption()}\n"


def _bold(cell: str) -> str:
    """A Markdown cell in bold, a significance mark left outside it (`**0.71** *`)."""
    text = cell.removesuffix(" *")
    return f"**{text}**" + cell[len(text) :]


def per_label_latex(table: PerLabel) -> str:
    """The table as a booktabs float to paste into a paper, its caption saying what it shows."""
    from peftspec.report.latex import snippet, table_float

    found = document_table(table)
    return snippet(
        [table_float(found, table.caption(), "tab:peftspec-per-label")], "peftspec compare --per-label"
    )


def document_table(table: PerLabel):
    """The table as a report block (`document.Table`): each label's row, its best figures bold."""
    from peftspec.report.document import Bold, Table

    cells = [
        [
            label,
            table.support_text(i),
            *(Bold(c) if j in table.best(i) else c for j, c in enumerate(table.cells(i))),
        ]
        for i, label in enumerate(table.labels)
    ]
    return Table(["label", "support", *table.names], cells, [False, True, *([True] * len(table.names))])


def per_label_rich(table: PerLabel):
    from rich.table import Table
    from rich.text import Text

    out = Table(title=f"Per label ({table.split})", title_justify="left", caption=table.caption())
    out.caption_justify = "left"
    out.add_column("label")
    out.add_column("support", justify="right")
    for name in table.names:
        out.add_column(name, justify="right", no_wrap=True)
    for i, label in enumerate(table.labels):
        best = table.best(i)
        out.add_row(
            Text(label),
            Text(table.support_text(i)),
            *(Text(c, style="bold green" if j in best else "") for j, c in enumerate(table.cells(i))),
        )
    return out


def per_label_blocks(compared: Any, runs: list[Run], split: str) -> list:
    """The report's overview block: each label's F1 side by side, when there are rows to set side
    by side (`compared`: a `compare.Compared`)."""
    from peftspec.report.document import Heading, Para

    if len(compared.rows) < 2:
        return []
    try:
        table = per_label(compared.rows, runs, split, compared.baseline)
    except NoPerLabel:
        return []
    if compared.comparison is not None:  # the overview's differences were tested: so are the labels'
        test_labels(table, compared.rows, runs)
    return [Heading(3, f"Per label ({split})"), document_table(table), Para(table.caption())]
