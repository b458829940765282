"""The broken-spec corpus: every case must be reported at its exact file, line, column and key path.

Each file in `tests/broken_specs/` states what it expects in its header:
`# expect: [FILE:]LINE:COL PATH CODE [-> SUGGESTION]` (`-` for no line, column or path; FILE
`@set` means the `--set` override named by a `# set: KEY=VALUE` line).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from peftspec.spec import check_spec

CORPUS = Path(__file__).parent / "broken_specs"
CASES = sorted(p for p in CORPUS.glob("*.toml"))
EXPECT = re.compile(
    r"^# expect: (?:(?P<file>[^\s:]+):)?(?P<line>[\d-]+):(?P<col>[\d-]+) "
    r"(?P<path>\S+) (?P<code>\S+)(?: -> (?P<suggestion>\S+))?$"
)


def expectations(case: Path) -> tuple[list[str], list[tuple]]:
    overrides, expected = [], []
    for line in case.read_text(encoding="utf-8").splitlines():
        if line.startswith("# set: "):
            overrides.append(line.removeprefix("# set: "))
        elif line.startswith("# expect: "):
            m = EXPECT.match(line)
            assert m, f"{case.name}: malformed expectation {line!r}"
            file = m["file"]
            if file == "@set":
                file = f"--set {overrides[0]}"
            elif file:
                file = str(CORPUS / file)
            else:
                file = str(case)
            expected.append(
                (
                    os.path.normpath(file) if not file.startswith("--set") else file,
                    None if m["line"] == "-" else int(m["line"]),
                    None if m["col"] == "-" else int(m["col"]),
                    "" if m["path"] == "-" else m["path"],
                    m["code"],
                    m["suggestion"],
                )
            )
    return overrides, expected


def test_corpus_is_large_enough():
    assert len(CASES) >= 30


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_broken_spec_is_located_exactly(case: Path):
    overrides, expected = expectations(case)
    assert expected, f"{case.name} states no expectation"
    report = check_spec(case, overrides)
    assert report.spec is None
    got = [
        (
            os.path.normpath(d.file) if not d.file.startswith("--set") else d.file,
            d.line,
            d.column,
            d.path,
            d.code,
            d.suggestion,
        )
        for d in report.errors
    ]
    assert sorted(got, key=str) == sorted(expected, key=str)
    for d in report.errors:
        assert d.message and "Traceback" not in d.message


def test_cli_reports_whole_corpus_without_traceback():
    """One `peftspec lint` over the corpus: exit 1, every case reported, no Python traceback."""
    proc = subprocess.run(
        [sys.executable, "-m", "peftspec", "lint", str(CORPUS), "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    reported = {os.path.normpath(d["file"]) for d in report["diagnostics"] if d["severity"] == "error"}
    for case in CASES:
        overrides, expected = expectations(case)
        if not overrides:  # cases that need --set are exercised above
            assert {e[0] for e in expected} <= reported, case.name
