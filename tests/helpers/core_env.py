"""A core-only environment: `pip install peftspec` with no extras, made offline from this one.

Only the distributions that peftspec's core requirements pull in (resolved from the installed
metadata) are linked into a fresh site folder; the interpreter starts without its own site-packages
(`-S`), so torch, transformers, numpy and the rest are not installed there, exactly as after a
plain install."""

from __future__ import annotations

import importlib.metadata as metadata
import subprocess
import sys
from pathlib import Path

from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[2]


def core_distributions() -> set[str]:
    """The distributions `pip install peftspec` installs: the core requirements' closure."""
    wanted, seen = ["peftspec"], set()
    while wanted:
        name = wanted.pop()
        key = name.lower().replace("_", "-")
        if key in seen:
            continue
        seen.add(key)
        for text in metadata.requires(name) or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                wanted.append(requirement.name)
    return seen - {"peftspec"}


def make_core_site(folder: Path) -> Path:
    """`folder` holding links to the core distributions' files (modules and metadata)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in core_distributions():
        dist = metadata.distribution(name)
        for top in {Path(str(f)).parts[0] for f in dist.files or [] if not str(f).startswith("..")}:
            source = Path(dist.locate_file(top))
            if source.exists() and not (folder / top).exists() and top != "__pycache__":
                (folder / top).symlink_to(source)
    return folder


def run_core(site: Path, *args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess:
    """`peftspec ARGS` in the core-only environment."""
    code = (
        "import sys\n"
        f"sys.path[:0] = [{str(site)!r}, {str(REPO)!r}]\n"
        "from peftspec.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    return subprocess.run(
        [sys.executable, "-S", "-c", code, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={"PATH": "/usr/bin:/bin", "HOME": str(cwd), "NO_COLOR": "1"},
    )
