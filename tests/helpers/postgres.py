"""A real PostgreSQL server for a test: initdb and pg_ctl in a temporary folder, listening on
127.0.0.1 at a free port, trust authentication, stopped (and removed) when the test ends. Run as
the `postgres` user when the tests run as root (initdb refuses root)."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path


def binaries() -> Path | None:
    """The folder of initdb and pg_ctl (on PATH, or Debian's /usr/lib/postgresql/N/bin)."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(versions[-1]).parent if versions else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def postgres_server():
    """Yields a SQLAlchemy URL of a fresh database on a server started for this test."""
    folder = binaries()
    if folder is None:
        raise RuntimeError("PostgreSQL is not installed: apt-get install -y postgresql")
    as_root = os.geteuid() == 0
    run_as = ["runuser", "-u", "postgres", "--"] if as_root else []
    root = Path(tempfile.mkdtemp(prefix="peftspec-pg-", dir="/tmp"))
    if as_root:
        shutil.chown(root, "postgres", "postgres")
    data, port = root / "data", _free_port()

    def call(*args: str) -> None:
        subprocess.run([*run_as, *args], check=True, capture_output=True, timeout=120)

    try:
        call(str(folder / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        options = f"-h 127.0.0.1 -p {port} -k {root} -c fsync=off"
        call(str(folder / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "start")
        try:
            call(str(folder / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "peftspec")
            yield f"postgresql://postgres@127.0.0.1:{port}/peftspec"
        finally:
            call(str(folder / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(root, ignore_errors=True)
