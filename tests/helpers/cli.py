"""`peftspec ARGS` run in the test's own process: the heavy imports are paid once per session, not
once per command (a subprocess costs seconds of torch and transformers imports)."""

from __future__ import annotations

import io
import os
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from unittest import mock


@dataclass
class Result:
    returncode: int
    out: str
    err: str

    @property
    def stdout(self) -> str:
        return self.out

    @property
    def stderr(self) -> str:
        return self.err


def peftspec(cwd: Path, *args: str, stdin: bytes | None = None) -> Result:
    """Run the command in `cwd` with `stdin` as its input; an exception that is not a user error
    propagates (it would have been a traceback)."""
    from peftspec.cli import main

    out, err = io.StringIO(), io.StringIO()
    here = os.getcwd()
    os.chdir(cwd)
    try:
        with (
            redirect_stdout(out),
            redirect_stderr(err),
            mock.patch.object(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin or b""))),
        ):
            code = main(list(args))
    finally:
        os.chdir(here)
    return Result(code, out.getvalue(), err.getvalue())
