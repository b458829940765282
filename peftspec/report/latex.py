"""A report's blocks as LaTeX, for papers: booktabs tables to paste (`table_float`), and the whole
report as a document that pdflatex compiles as it is (`to_latex`).

Text is escaped for LaTeX (`_`, `&`, `%`, `#`, `$`, braces, backslashes); `±` and the other
symbols the reports use become their math-mode forms; accented Latin letters are kept (T1
fonts); any other character pdflatex cannot set (an emoji in a tweet, CJK) is written as its code
point, `[U+1F602]`, so the document always compiles. A table wider than the text is scaled down
to the line width, never beyond its natural size.
"""

from __future__ import annotations

import re

from peftspec.report.document import Block, Bold, Bullets, Cell, Heading, Image, Para, Table

PACKAGES = r"""\usepackage[T1]{fontenc}
\usepackage[utf8]{inputenc}
\usepackage{booktabs}
\usepackage{graphicx}"""
"""What the tables and figures need in a paper's preamble."""

ESCAPES = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
    "±": r"\ensuremath{\pm}",
    "×": r"\ensuremath{\times}",
    "·": r"\ensuremath{\cdot}",
    "→": r"\ensuremath{\rightarrow}",
    "≥": r"\ensuremath{\geq}",
    "≤": r"\ensuremath{\leq}",
    "−": r"\ensuremath{-}",
    "…": r"\ldots{}",
    "–": "--",
    "—": "---",
    "‘": "`",
    "’": "'",
    "“": "``",
    "”": "''",
    "\u00a0": "~",
}

WIDTH = 90
"""Characters of cells (with their gaps) one tabular row may hold; wider tables are cut into several."""

SCALED = r"\resizebox{\ifdim\width>\linewidth\linewidth\else\width\fi}{!}{%"
"""Opens a box that shrinks a wider table to the line width and leaves a narrower one as it is."""


def escape(text: str) -> str:
    """`text` as LaTeX that typesets it literally (see the module's docstring)."""
    out = []
    for ch in str(text):
        if ch in ESCAPES:
            out.append(ESCAPES[ch])
        elif ch in "\n\r\t":
            out.append(" ")
        elif " " <= ch <= "~" or ("\u00c0" <= ch <= "\u017f" and ch.isalpha()):
            out.append(ch)
        elif ch.isprintable():
            out.append(rf"\texttt{{[U+{ord(ch):04X}]}}")
    return re.sub(r"(?<![\w.])-(?=\d)", r"\\ensuremath{-}", "".join(out))  # a minus, not a hyphen


def inline(text: str) -> str:
    """A paragraph's small Markdown subset (`code`, **bold**) as LaTeX, the rest escaped."""
    out = []
    for part in re.split(r"(`[^`]+`|\*\*[^*]+\*\*)", text):
        if part.startswith("`") and part.endswith("`") and len(part) > 1:
            out.append(rf"\texttt{{{escape(part[1:-1])}}}")
        elif part.startswith("**") and part.endswith("**") and len(part) > 3:
            out.append(rf"\textbf{{{escape(part[2:-2])}}}")
        else:
            out.append(escape(part))
    return "".join(out)


def _cell(cell: Cell) -> str:
    return rf"\textbf{{{escape(cell.text)}}}" if isinstance(cell, Bold) else escape(cell)


def tabular(table: Table) -> str:
    """The table as booktabs `tabular`s (numbers right-aligned), each scaled down when wider than a
    line. A table wider than `WIDTH` characters is cut into several stacked ones, each repeating
    the first column (the run), so that no figure shrinks past reading."""
    numeric = table.numeric or [False] * len(table.header)
    parts = _parts(
        [max(len(str(getattr(c, "text", c))) for c in column) for column in zip(table.header, *table.rows)]
    )
    out = []
    for columns in parts:
        out += [
            SCALED,
            rf"\begin{{tabular}}{{{''.join('r' if numeric[c] else 'l' for c in columns)}}}",
            r"\toprule",
            " & ".join(escape(table.header[c]) for c in columns) + r" \\",
            r"\midrule",
            *(" & ".join(_cell(row[c]) for c in columns) + r" \\" for row in table.rows),
            r"\bottomrule",
            r"\end{tabular}}",
        ]
        if columns is not parts[-1]:
            out.append(r"\par\medskip")
    return "\n".join(out)


def _parts(widths: list[int]) -> list[list[int]]:
    """Column indices of each stacked tabular: the first column, then as many of the others as
    keep the part within `WIDTH` characters (at least one)."""
    parts, part, used = [], [0], widths[0] + 3
    for c in range(1, len(widths)):
        if len(part) > 1 and used + widths[c] + 3 > WIDTH:
            parts.append(part)
            part, used = [0], widths[0] + 3
        part.append(c)
        used += widths[c] + 3
    return [*parts, part]


def table_float(table: Table, caption: str, label: str) -> str:
    """A `table` float to paste into a paper: the tabular, its caption and its label."""
    return "\n".join(
        [
            r"\begin{table}[htbp]",
            r"\centering",
            tabular(table),
            rf"\caption{{{inline(caption)}}}",
            rf"\label{{{label}}}",
            r"\end{table}",
        ]
    )


def snippet(floats: list[str], what: str) -> str:
    """Table floats with a comment naming the packages they need."""
    needs = "; ".join(line.strip() for line in PACKAGES.splitlines()[2:])
    return f"% {what}, written by peftspec; the preamble needs {needs}\n" + "\n\n".join(floats) + "\n"


def to_latex(blocks: list[Block]) -> str:
    """The whole report as a LaTeX document; each image is read as the PDF beside its PNG."""
    levels = {1: "section*", 2: "section*", 3: "subsection*", 4: "subsubsection*"}
    out = [
        r"\documentclass[10pt]{article}",
        PACKAGES,
        r"\usepackage[margin=2cm]{geometry}",
        r"\setlength{\parindent}{0pt}\setlength{\parskip}{0.5em}",
        r"\begin{document}",
    ]
    for block in blocks:
        if isinstance(block, Heading):
            if block.level == 1:
                out.append(rf"{{\LARGE\bfseries {escape(block.text)}\par}}")
            else:
                out.append(rf"\{levels.get(block.level, 'paragraph*')}{{{escape(block.text)}}}")
        elif isinstance(block, Para):
            out.append(inline(block.text) + "\n")
        elif isinstance(block, Bullets):
            items = "\n".join(rf"\item {inline(item)}" for item in block.items)
            out.append(r"\begin{itemize}" + "\n" + items + "\n" + r"\end{itemize}")
        elif isinstance(block, Table):
            out.append(r"\begin{center}" + "\n" + tabular(block) + "\n" + r"\end{center}")
        elif isinstance(block, Image):
            pdf = re.sub(r"\.png$", ".pdf", block.src)
            out.append(
                r"\begin{center}"
                + rf"\includegraphics[width=\linewidth,height=0.4\textheight,keepaspectratio]{{{pdf}}}"
                + r"\end{center}"
            )
    out.append(r"\end{document}")
    return "\n".join(out) + "\n"
