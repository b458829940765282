"""LaTeX for papers: `peftspec compare --format latex` and `peftspec report`'s report.tex, compiled
by a real pdflatex (CI installs it; elsewhere the compile tests are skipped when it is missing)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from peftspec.report.latex import escape, inline
from tests.helpers.cli import peftspec
from tests.helpers.fixture_runs import write_run_with_predictions

PDFLATEX = shutil.which("pdflatex")
needs_pdflatex = pytest.mark.skipif(
    PDFLATEX is None and not os.environ.get("CI"), reason="pdflatex is not installed (CI installs it)"
)
TEXTS = ["so happy 😂 #blessed", "50% off & free_shipping", "café {déjà} ~vu^ <3 | \\o/", "$5 or -3"]


def compile_pdf(folder: Path, tex: str) -> str:
    """pdflatex `tex` in `folder` (twice-safe, stops at the first error); returns its log."""
    assert PDFLATEX is not None, "pdflatex is not installed: CI installs texlive-latex-recommended"
    proc = subprocess.run(
        [PDFLATEX, "-interaction=nonstopmode", "-halt-on-error", tex],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
    )
    log = (folder / tex).with_suffix(".log").read_text(errors="replace")
    assert proc.returncode == 0, log[-3000:]
    assert (folder / tex).with_suffix(".pdf").stat().st_size > 1000
    for trouble in ("Undefined control sequence", "Missing character", "not set up for use with LaTeX"):
        assert trouble not in log, trouble
    return log


def test_text_is_set_literally_and_what_pdflatex_cannot_set_is_named():
    said = escape("a_b & 50% #1 $x {y} ~ ^ \\ <a|b> ± é → … 😂")
    assert said == (
        r"a\_b \& 50\% \#1 \$x \{y\} \textasciitilde{} \textasciicircum{} \textbackslash{} "
        r"\textless{}a\textbar{}b\textgreater{} \ensuremath{\pm} é \ensuremath{\rightarrow} \ldots{} "
        r"\texttt{[U+1F602]}"
    )
    assert escape("(-0.0520) cmp-lora 2026-12-04") == r"(\ensuremath{-}0.0520) cmp-lora 2026-12-04"
    assert escape("line\nbreak") == "line break"
    assert inline("use `a_b`, **best** x_y") == r"use \texttt{a\_b}, \textbf{best} x\_y"


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory) -> list[Path]:
    root = tmp_path_factory.mktemp("latex")
    return [
        write_run_with_predictions(root, "ml-lora-20260301T120000Z", 0.5, 1, TEXTS),
        write_run_with_predictions(root, "ml-ia3-20260301T130000Z", 0.8, 2, TEXTS),
    ]


@needs_pdflatex
def test_compare_writes_booktabs_floats_that_compile_in_a_paper(two_runs, tmp_path):
    lora, ia3 = map(str, two_runs)
    proc = peftspec(tmp_path, "compare", lora, ia3, "--baseline", lora, "--format", "latex")
    assert proc.returncode == 0, proc.stderr
    tex = proc.stdout
    assert tex.startswith("% peftspec compare") and r"\usepackage{booktabs}" in tex
    assert tex.count(r"\begin{table}") == 3  # the runs, what sets them apart, the differences
    for label in ("tab:peftspec-runs", "tab:peftspec-settings", "tab:peftspec-significance"):
        assert rf"\label{{{label}}}" in tex
    assert r"\caption{Split: test." in tex  # the caption says what the figures are
    assert "paired bootstrap" in tex
    rows = json.loads(peftspec(tmp_path, "compare", lora, ia3, "--format", "json").stdout)
    best = max(row["f1_macro"] for row in rows)
    assert rf"\textbf{{{best:.4f}" in tex  # the best F1 macro, in bold
    per_label = peftspec(tmp_path, "compare", lora, ia3, "--per-label", "--format", "latex")
    assert per_label.returncode == 0, per_label.stderr
    assert r"\label{tab:peftspec-per-label}" in per_label.stdout
    assert r"fear [r=8]" in per_label.stdout  # a label name as it is, brackets and all
    (tmp_path / "runs.tex").write_text(tex)
    (tmp_path / "per_label.tex").write_text(per_label.stdout)
    paper = (
        "\\documentclass{article}\n\\usepackage{booktabs}\n\\usepackage{graphicx}\n"
        "\\begin{document}\n\\input{runs.tex}\n\\input{per_label.tex}\n\\end{document}\n"
    )
    (tmp_path / "paper.tex").write_text(paper)
    compile_pdf(tmp_path, "paper.tex")


@needs_pdflatex
def test_the_report_is_also_a_latex_document_with_vector_figures(two_runs, tmp_path):
    out = tmp_path / "rep"
    proc = peftspec(tmp_path, "report", *map(str, two_runs), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    tex = (out / "report.tex").read_text()
    pngs = sorted(out.rglob("*.png"))
    assert pngs and all(p.with_suffix(".pdf").is_file() for p in pngs)  # every figure as a PDF too
    assert tex.count(r"\includegraphics") == len(pngs)
    assert r"\texttt{[U+1F602]}" in tex  # a tweet's emoji in the mistakes, named, not dropped
    assert r"free\_shipping" in tex and "café" in tex
    compile_pdf(out, "report.tex")
