"""Every command prints a user's mistake the same way: `peftspec COMMAND: what went wrong`, the
located problems, a hint, the documented exit code, and never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from peftspec.cli import main
from tests.conftest import SPECS
from tests.helpers.fixture_runs import write_fixture_root


@pytest.fixture(scope="module")
def runs_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("errors") / "runs"
    write_fixture_root(root)
    return root


def cases(root: Path, tmp: Path) -> list[tuple[list[str], int, str]]:
    (tmp / "taken.toml").write_text("name = 'x'\n")
    failed = root / "ml-oom-20260304T120000Z"
    return [
        (["run", str(tmp / "missing.toml")], 2, "no such spec file"),
        (["run"], 2, "give a SPEC to run, or --resume RUN"),
        (["render", str(tmp / "missing.toml")], 2, "no such spec file"),
        (["plan", str(SPECS / "quickstart.toml"), "--gpu-memory", "lots"], 2, "is not a memory size"),
        (["compare", "nope", "--root", str(root)], 2, "matches no run directory"),
        (["report", "nope", "--root", str(root), "-o", str(tmp / "r")], 2, "matches no run directory"),
        (["runs", str(tmp / "nowhere")], 2, "no such folder"),
        (["tui", str(tmp / "nowhere")], 2, "no such folder"),
        (["init", str(tmp / "taken.toml")], 2, "use --force to overwrite it"),
        (["lint", str(tmp / "nothing-here")], 2, "no such file or folder"),
        (["run", "--resume", str(tmp)], 1, "is not a run directory"),
        (
            ["run", str(failed)],
            2,
            f"is a run directory, not a spec hint: to train its recorded spec again: "
            f"peftspec run {failed / 'spec.toml'}; to continue it: peftspec run --resume {failed}",
        ),
        (["export", str(failed), "-o", str(tmp / "out")], 1, "only completed runs can be exported"),
        (["predict", str(failed), "-"], 1, "not completed"),
        (["report", str(failed), "-o", str(tmp / "taken.toml")], 2, "exists and is not a folder"),
        (["serve", str(failed), "--port", "99999"], 2, "--port 99999 is not a port (0-65535)"),
        # the file system refuses a path: said, not a traceback
        (["report", str(failed), "-o", str(tmp / "taken.toml" / "sub")], 1, "cannot use a file"),
        (["init", str(tmp / "taken.toml" / "new.toml")], 1, "cannot use a file"),
    ]


def test_user_mistakes_are_rendered_alike(runs_root: Path, tmp_path: Path, capsys):
    for argv, code, message in cases(runs_root, tmp_path):
        assert main(argv) == code, argv
        err = capsys.readouterr().err
        assert err.startswith(f"peftspec {argv[0]}: "), (argv, err)
        assert message in " ".join(err.split()), (argv, err)
        assert "Traceback" not in err


def test_an_invalid_spec_is_reported_as_lint_reports_it(tmp_path: Path, capsys):
    spec = tmp_path / "bad.toml"
    spec.write_text(
        'name = "x"\n[dataset]\ntrain = "t.csv"\n[backbone]\nmodel = "m"\n[trainer]\nepohcs = 3\n'
    )
    assert main(["run", str(spec)]) == 1
    err = capsys.readouterr().err
    assert f"{spec}:7:1" in err and "trainer.epohcs" in err and "did you mean 'epochs'?" in err


def test_a_missing_extra_names_the_install_line():
    from peftspec.cli.errors import render_error
    from peftspec.errors import missing_extra

    error = missing_extra(ModuleNotFoundError("No module named 'transformers'", name="transformers"), "run")
    assert error.exit_code == 1 and error.hint == "pip install 'peftspec[train]'"
    assert "transformers is not installed" in error.message
    assert render_error(error, "run") == 1
    with pytest.raises(ModuleNotFoundError):  # a missing peftspec module is a bug, not the user's
        missing_extra(ModuleNotFoundError("x", name="peftspec.nope"), "run")


def test_serve_on_a_port_in_use_says_so_before_loading_any_model(runs_root: Path, capsys):
    import socket

    pytest.importorskip("fastapi")
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        run = next(p for p in runs_root.iterdir() if p.is_dir())
        assert main(["serve", str(run), "--port", str(port)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert err.startswith(
        f"peftspec serve: usage: cannot listen on 127.0.0.1:{port} (Address already in use)"
    )
    assert "--port 0 takes any free one" in err and "Traceback" not in err
