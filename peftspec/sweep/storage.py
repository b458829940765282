"""Where a study lives, and the lock that makes handing out trials exact across workers.

By default a journal file in the sweep's folder (`<output_root>/<name>-sweep/journal.log`):
embedded, no server; workers on other machines share it through a shared folder. `--storage URL`
takes any database Optuna's RDB storage reads (`postgresql://...`, `sqlite:///...`).

Trials are handed out from a fixed queue of `trials` waiting trials, each taken under a lock so
two workers never take the last one twice: a PostgreSQL advisory lock for PostgreSQL, else a file
lock in the sweep's folder (for a journal on a shared folder, or SQLite; other databases shared by
workers on several machines need PostgreSQL for an exact budget). On PostgreSQL, Optuna's tables
are created under an advisory lock too, so workers may start together on an empty database.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from contextlib import contextmanager, nullcontext
from pathlib import Path

JOURNAL = "journal.log"
LOCK = "study.lock"


def open_storage(url: str | None, folder: Path):
    """The Optuna storage: the journal file in `folder`, or the database at `url`."""
    import optuna

    if url is None:
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend, JournalFileOpenLock

        folder.mkdir(parents=True, exist_ok=True)
        path = str(folder / JOURNAL)
        return JournalStorage(JournalFileBackend(path, lock_obj=JournalFileOpenLock(path)))
    # Optuna creates its tables (and PostgreSQL enum types) on first open, which is not safe when
    # workers start together on an empty database: one fails with a duplicate pg_type key.
    with _advisory(url, "(optuna tables)") if _postgres(url) else nullcontext():
        return optuna.storages.RDBStorage(database_url(url), engine_kwargs={"pool_pre_ping": True})


def database_url(url: str) -> str:
    """`postgresql://` with the driver the `sweep` extra installs (psycopg 3), whatever
    SQLAlchemy's default driver; a URL that names its driver is kept."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _postgres(url: str | None) -> bool:
    return url is not None and url.startswith("postgres")


def describe(url: str | None, folder: Path) -> str:
    """The storage for people (a database URL without its password)."""
    if url is None:
        return f"journal {folder / JOURNAL}"
    from sqlalchemy.engine import make_url

    return f"database {make_url(url).render_as_string(hide_password=True)}"


@contextmanager
def study_lock(url: str | None, folder: Path, study: str):
    """Held while a worker looks for a trial and takes it (never while a trial trains)."""
    if _postgres(url):
        with _advisory(url, study):
            yield
        return
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / LOCK, "a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


@contextmanager
def _advisory(url: str, name: str):
    """Hold PostgreSQL's session advisory lock named `name` (a study's, or the schema's)."""
    from sqlalchemy import create_engine, text

    key = int.from_bytes(hashlib.sha256(f"peftspec:{name}".encode()).digest()[:8], "big", signed=True)
    engine = create_engine(database_url(url), poolclass=_null_pool())
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
    finally:
        engine.dispose()


def _null_pool():
    from sqlalchemy.pool import NullPool

    return NullPool


def worker_id() -> str:
    """This process, as trials record who runs them: `host:pid`."""
    return f"{os.uname().nodename}:{os.getpid()}"


def alive(worker: str | None) -> bool | None:
    """Whether the worker `host:pid` still runs: True or False on this host, None elsewhere."""
    if not worker or ":" not in worker:
        return None
    host, _, pid = worker.rpartition(":")
    if host != os.uname().nodename:
        return None
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, ValueError):
        return True
    return True
