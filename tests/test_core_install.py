"""`pip install peftspec` with no extras: the core commands work, and every command that needs an
extra says which one to install (no traceback). Run in a real interpreter whose only packages are
the core requirements' closure (tests/helpers/core_env.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.helpers.core_env import REPO, make_core_site, run_core
from tests.helpers.fixture_runs import SEMEVAL_LABELS, write_run

RUN = "fixture-20260101T000000Z"


@pytest.fixture(scope="module")
def core(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("core")
    site = make_core_site(root / "site")
    work = root / "work"
    shutil.copytree(REPO / "specs", work / "specs")
    data = root / "shared" / "data" / "semeval2018_ec"  # where the shipped specs look (a header will do)
    data.mkdir(parents=True)
    header = "ID\tTweet\t" + "\t".join(SEMEVAL_LABELS) + "\n"
    for split in ("train", "dev"):
        (data / f"2018-E-c-En-{split}.txt").write_text(header)
    write_run(work / "runs", RUN)
    return site, work


def test_the_core_has_no_heavy_dependency(core):
    site, work = core
    proc = run_core(site, "lint", "specs/", cwd=work)  # a command, then what it left imported
    assert proc.returncode == 0, proc.stderr
    for module in ("torch", "transformers", "numpy", "polars"):
        assert not (site / module).exists(), module


@pytest.mark.parametrize(
    ("args", "shows"),
    [
        (["lint", "specs/", "--strict"], "0 errors"),
        (["render", "specs/quickstart.toml"], "[trainer]"),
        (["schema"], '"title": "Spec"'),
        (["init", "new.toml"], "Wrote new.toml"),
        (["runs"], RUN),
        (["compare", RUN], "F1 macro"),
        (["tui", "--help"], "folder of run directories"),
    ],
)
def test_core_commands_work_without_extras(core, args, shows):
    site, work = core
    proc = run_core(site, *args, cwd=work)
    assert proc.returncode == 0, proc.stderr
    assert shows in proc.stdout
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("args", "extra"),
    [
        (["run", "specs/quickstart.toml"], "train"),
        (["check", "specs/quickstart.toml"], "train"),
        (["plan", "specs/quickstart.toml"], "train"),
        (["report", RUN, "-o", "report"], "train"),
        (["predict", RUN, "-"], "train"),
        (["evaluate", RUN, "specs/quickstart.toml"], "train"),
        (["export", RUN, "-o", "exported"], "train"),
        (["serve", RUN], "serve"),
    ],
)
def test_commands_that_need_an_extra_name_it(core, args, extra):
    site, work = core
    before = sorted(p.relative_to(work) for p in work.rglob("*"))
    proc = run_core(site, *args, cwd=work)
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert f"peftspec {args[0]} needs the '{extra}' extra" in proc.stderr
    assert f"pip install 'peftspec[{extra}]'" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert sorted(p.relative_to(work) for p in work.rglob("*")) == before  # nothing half-written


def test_the_tui_browses_runs_without_extras(core):
    """The run browser is core: open the list and a run's screen headless, in the core interpreter."""
    site, work = core
    script = work / "pilot.py"
    script.write_text(
        "import asyncio, sys\n"
        "from peftspec.tui.app import PeftspecApp\n"
        "async def main():\n"
        "    app = PeftspecApp('runs')\n"
        "    async with app.run_test(size=(100, 30)) as pilot:\n"
        "        await pilot.pause(0.5)\n"
        "        await pilot.press('enter')\n"
        "        await pilot.pause(0.5)\n"
        "        print(type(app.screen).__name__)\n"
        "asyncio.run(main())\n"
    )
    code = f"import runpy, sys\nsys.path[:0] = [{str(site)!r}, {str(REPO)!r}]\nrunpy.run_path('pilot.py')\n"
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-S", "-c", code],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "HOME": str(work)},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().splitlines()[-1] == "RunScreen"
