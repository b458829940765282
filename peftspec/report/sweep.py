"""`peftspec report SWEEP`: a sweep's trials table, optimisation history, parameter importances and
parallel coordinates (PNG, drawn by Optuna's matplotlib plots), then the best trial's full report."""

from __future__ import annotations

import warnings
from pathlib import Path

from peftspec.report.document import Block, Bold, Heading, Image, Para, Table, to_html, to_markdown
from peftspec.report.latex import to_latex
from peftspec.runs import read_run


def build_sweep_report(study, out: Path, storage: str) -> Path:
    """Write `report.md`, `report.html` and `img/` under `out` for `study`; the Markdown path."""
    from peftspec.report.build import run_section
    from peftspec.sweep.report import best_row, objective_text, run_text, state_text, trial_rows

    out.mkdir(parents=True, exist_ok=True)
    rows = trial_rows(study)
    metric = study.user_attrs.get("metric", "value")
    keys = list(dict.fromkeys(k for r in rows for k in r["params"]))
    best = best_row(study)
    states = {
        s: sum(r["state"] == s for r in rows) for s in ("complete", "pruned", "failed", "running", "waiting")
    }
    blocks: list[Block] = [
        Heading(1, f"Sweep {study.study_name}"),
        Para(
            f"{len(rows)} trials in {storage}: "
            + ", ".join(f"{n} {s}" for s, n in states.items() if n)
            + f". Objective: {objective_text(study)}; figures of runs that tune their "
            "thresholds on validation are cross-fitted there. Pruned trials stopped early at a checkpoint."
        ),
        Heading(2, "Trials"),
        Table(
            ["trial", "state", metric, *keys, "run"],
            [
                [
                    Bold(str(r["number"])) if best and r["number"] == best["number"] else str(r["number"]),
                    state_text(r),
                    f"{r['value']:.4f}" if r["value"] is not None else "-",
                    *(_fmt(r["params"].get(k)) for k in keys),
                    run_text(r),
                ]
                for r in rows
            ],
            [True, False, True, *[True] * len(keys), False],
        ),
    ]
    blocks += _figures(study, out / "img")
    if best is not None and best["run_dir"] and Path(best["run_dir"]).is_dir():
        blocks += [Heading(2, f"Best trial: {best['number']} ({metric} {best['value']:.4f})")]
        if best["group"]:
            blocks.append(
                Para(
                    f"Its value is the mean over its folds, the runs of group {best['group']} (`peftspec "
                    f"compare {best['group']}` shows them); below, its last fold's run."
                )
            )
        blocks += run_section(read_run(best["run_dir"]), out)
    markdown = out / "report.md"
    markdown.write_text(to_markdown(blocks), encoding="utf-8")
    (out / "report.html").write_text(to_html(blocks, f"Sweep {study.study_name}"), encoding="utf-8")
    (out / "report.tex").write_text(to_latex(blocks), encoding="utf-8")
    return markdown


def _figures(study, img: Path) -> list[Block]:
    """The optimisation history, importances and parallel coordinates, where there are enough
    finished trials to draw them (each says why when not)."""
    from optuna.trial import TrialState

    from peftspec.report.plots import _pyplot, save_figure

    _pyplot()  # the Agg backend, before Optuna draws
    img.mkdir(parents=True, exist_ok=True)
    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    params = {k for t in done for k in t.params}
    from optuna.visualization import matplotlib as plots

    figures = [
        ("Optimisation history", "history.png", plots.plot_optimization_history, 1),
        ("Parameter importances (fANOVA)", "importances.png", plots.plot_param_importances, 2),
        ("Parallel coordinates", "parallel.png", plots.plot_parallel_coordinate, 2),
    ]
    blocks: list[Block] = []
    for title, name, plot, needed in figures:
        blocks.append(Heading(2, title))
        if len(done) < needed or (needed > 1 and not params):
            blocks.append(Para(f"Not drawn: {len(done)} completed trial(s); it needs {needed} or more."))
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Optuna marks its matplotlib plots experimental
            axes = plot(study)
        figure = axes.figure if hasattr(axes, "figure") else axes.flat[0].figure
        figure.set_size_inches(9, 4.5)
        figure.tight_layout()
        save_figure(figure, img / name, dpi=100)
        blocks.append(Image(f"img/{name}", title))
    return blocks


def _fmt(value) -> str:
    if value is None:
        return "-"
    return f"{value:.4g}" if isinstance(value, float) else str(value)
