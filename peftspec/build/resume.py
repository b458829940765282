"""May a run be resumed with this spec and this data? Pure checks; `peftspec.api.resume_run` asks
them before anything is trained or written."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from peftspec.errors import UserError
from peftspec.spec.flat import flatten
from peftspec.spec.root import Spec


class ResumeRefused(UserError):
    """Resuming would not continue the same experiment, or there is nothing to resume from."""

    title = "Cannot resume"


def spec_changes(recorded: Spec, new: Spec) -> list[tuple[str, Any, Any]]:
    """(dotted key, recorded value, new value) for every leaf that differs."""
    before, after = flatten(recorded.model_dump(mode="json")), flatten(new.model_dump(mode="json"))
    keys = sorted(set(before) | set(after))
    return [(k, before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)]


def _allowed(key: str, force: Sequence[str]) -> bool:
    return any(key == f or key.startswith(f + ".") for f in force)


def check_spec_changes(recorded: Spec, new: Spec, force: Sequence[str]) -> list[tuple[str, Any, Any]]:
    """The changes from the recorded spec, all of them allowed by `force` (else `ResumeRefused`)."""
    changes = spec_changes(recorded, new)
    refused = [c for c in changes if not _allowed(c[0], force)]
    if refused:
        keys = ",".join(k for k, _, _ in refused)
        raise ResumeRefused(
            "the spec differs from the run's recorded spec; resuming would not continue the same experiment",
            problems=[f"{k}: {json.dumps(a)} -> {json.dumps(b)}" for k, a, b in refused],
            hint=f"allow these changes with --force {keys}",
        )
    return changes


def check_data_unchanged(recorded: dict[str, str], now: dict[str, str], force: Sequence[str]) -> None:
    # a run recorded before hub splits were hashed has no hash of them to compare
    unrecorded = {f for f in now if f.startswith("hub:") and f not in recorded}
    changed = sorted(f for f in (set(recorded) | set(now)) - unrecorded if recorded.get(f) != now.get(f))
    if changed and "data" not in force:
        raise ResumeRefused(
            "the data changed since the run started (content hash differs)",
            problems=changed,
            hint="resume with --force data to continue on the new data anyway",
        )
