"""What `peftspec check` found for one spec: an item per thing checked, each passed, failed,
skipped, or not checkable on a CPU."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from peftspec.spec.diagnostics import Diagnostic

Status = Literal["passed", "failed", "skipped", "unchecked"]


@dataclass
class CheckItem:
    name: str
    status: Status
    detail: str
    diagnostics: list[Diagnostic] = field(default_factory=list)


@dataclass
class SpecCheck:
    file: str
    items: list[CheckItem] = field(default_factory=list)
    seconds: float = 0.0
    run_dir: str | None = None

    def add(self, name: str, status: Status, detail: str, diagnostics=()) -> None:
        self.items.append(CheckItem(name, status, detail, list(diagnostics)))

    @property
    def status(self) -> Status:
        statuses = {i.status for i in self.items}
        for status in ("failed", "skipped"):
            if status in statuses:
                return status  # type: ignore[return-value]
        return "passed"

    def as_dict(self) -> dict:
        return {
            "file": self.file,
            "status": self.status,
            "seconds": round(self.seconds, 2),
            "run_dir": self.run_dir,
            "items": [
                {
                    "name": i.name,
                    "status": i.status,
                    "detail": i.detail,
                    "diagnostics": [d.as_dict() for d in i.diagnostics],
                }
                for i in self.items
            ],
        }


class StopCheck(Exception):
    """The remaining checks of a spec cannot run (an earlier one failed or was skipped)."""
