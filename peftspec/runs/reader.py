"""Reading run directories, tolerantly: a missing file is None, a damaged one is a warning.

`Run` is what every reader needs (the TUI, `compare`, `report`, `predict`, `export`, resume): the
typed record, the status with crash detection, the metric stream, evaluations by split (extra ones
from `peftspec evaluate` too), confusion matrices, thresholds, the spec as a dict, the weights
folder. Imports no torch, transformers or peft (the TUI and reports depend on it staying light).
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from peftspec.runs.layout import FULL_MODEL, RunPaths, is_run_dir, utc_now
from peftspec.runs.record import RunRecord
from peftspec.runs.stream import MetricStream, number

DAMAGE = (KeyError, TypeError, ValueError, AttributeError, IndexError)
"""What drawing a value of the wrong type or shape from a damaged run file raises: readers that go
past the typed record (the TUI's panes, the report's sections) catch these, say so and go on."""

PREDICTION_COLUMNS = ("split", "id", "text", "gold", "scores", "predicted")
"""What every reader of a predictions file relies on (an extra evaluation's file has no `split`)."""
STALE_AFTER_S = 120.0
"""A run still marked running whose heartbeat is older than this is shown as crashed."""
MAX_JSON_BYTES = 64 * 2**20
"""A run file larger than this is not a peftspec file: it is reported, not parsed."""


def read_json(path: Path, warnings: list[str]) -> Any:
    """The parsed file, None when absent; an unreadable one adds a warning and is None."""
    try:
        if path.stat().st_size > MAX_JSON_BYTES:
            warnings.append(
                f"{path.name}: {path.stat().st_size:,} bytes, too large to be a run file; ignored"
            )
            return None
        return json.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except (ValueError, OSError, RecursionError) as exc:
        warnings.append(f"{path.name}: unreadable ({exc.__class__.__name__}: {str(exc)[:120]})")
        return None


def _object(value: Any, name: str, warnings: list[str]) -> dict[str, Any] | None:
    if value is None or isinstance(value, dict):
        return value
    warnings.append(f"{name}: not a JSON object; ignored")
    return None


def threshold_protocol(thresholds: dict[str, Any]) -> str | None:
    """How tuned thresholds (eval.json's `thresholds`) were chosen, in a phrase; None when fixed.
    Runs recorded before `metrics.tune_for` tuned each label for its own F1 (that is, for F1 macro)."""
    if not isinstance(thresholds, dict) or thresholds.get("mode") != "tuned":
        return None
    target = thresholds.get("tuned_for") or "f1_macro"
    how = {"jointly": "jointly", "positive_class": "on the positive class"}.get(
        threshold_scope(thresholds), "per label"
    )
    text = f"tuned {how} on {thresholds.get('tuned_on') or 'validation'} for {target}"
    report = thresholds.get("report")
    return f"{text}; final figures: {report}" if report else text


def threshold_scope(thresholds: dict[str, Any]) -> str:
    """How tuned thresholds were found: `per_label`, `jointly` or `positive_class` (a binary
    task's one threshold). Runs recorded before eval.json held `scope` are read from the method's
    wording."""
    scope = thresholds.get("scope")
    if scope in ("per_label", "jointly", "positive_class"):
        return scope
    method = str(thresholds.get("method") or "")
    return "jointly" if "jointly" in method else "positive_class" if "positive" in method else "per_label"


def usable_calibration(calibration: Any) -> bool:
    """Whether a recorded calibration (thresholds' `calibration`) holds a temperature that can be
    used: a positive, finite number."""
    value = calibration.get("temperature") if isinstance(calibration, dict) else None
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < float("inf")


def calibration_phrase(calibration: dict[str, Any]) -> str:
    """How a run's scores were calibrated (`Run.calibration()`), in a sentence's part."""
    text = (
        f"logits divided by {float(calibration['temperature']):.3g}, the temperature of least "
        f"log-loss on {calibration.get('fitted_on') or 'validation'}"
    )
    before, after = calibration.get("log_loss_before"), calibration.get("log_loss_after")
    if isinstance(before, int | float) and isinstance(after, int | float):
        text += f" (log-loss {before:.4f} → {after:.4f})"
    return text


def fixed_threshold(thresholds: dict[str, Any]) -> float | None:
    """The one threshold every label was decided at (eval.json's `thresholds`), or None when they
    were tuned, differ, or the task decides by arg-max."""
    if not isinstance(thresholds, dict) or thresholds.get("mode") in ("tuned", "argmax"):
        return None
    values = {v for v in (thresholds.get("values") or {}).values() if isinstance(v, int | float)}
    return values.pop() if len(values) == 1 else None


@dataclass
class Run:
    """One run directory as recorded on disk."""

    paths: RunPaths
    record: RunRecord
    warnings: list[str] = field(default_factory=list)
    _stream: MetricStream | None = field(default=None, repr=False)

    @property
    def path(self) -> Path:
        return self.paths.root

    @property
    def name(self) -> str:
        return self.paths.name

    @property
    def display_name(self) -> str:
        """The spec's name, or the folder's when the record has none."""
        return self.record.name or self.name

    @property
    def status(self) -> str:
        """`running`, `completed`, `failed`, `interrupted`, `unknown`, or `crashed` (still marked
        running, but its heartbeat is stale: the process was killed)."""
        status = self.record.status
        if status == "running" and self._heartbeat_age() > STALE_AFTER_S:
            return "crashed"
        return status

    def _heartbeat_age(self) -> float:
        stamp = self.record.heartbeat_at or self.record.updated_at
        try:
            return (utc_now() - datetime.fromisoformat(stamp)).total_seconds()
        except (TypeError, ValueError):
            return float("inf")

    @property
    def stream(self) -> MetricStream:
        """The metric stream, read once on first use; `stream.tail()` reads what was appended."""
        if self._stream is None:
            self._stream = MetricStream(self.paths.metrics)
            self._stream.tail()
            self.warnings += self._stream.warnings
        return self._stream

    def metrics(self) -> list[dict[str, Any]]:
        """Every record of metrics.jsonl read so far."""
        return self.stream.records

    @property
    def last_step(self) -> int | None:
        """How far the run got: the final step, else the furthest of the metric stream, the last
        heartbeat and the newest checkpoint (a crashed run's heartbeat lags behind)."""
        if self.record.steps is not None:
            return self.record.steps
        from peftspec.runs.checkpoints import checkpoint_folders

        folders = checkpoint_folders(self.paths.checkpoints)
        newest = folders[0][0] if folders else None
        found = [s for s in (self.stream.last_step, self.record.step, newest) if s is not None]
        return max(found) if found else None

    def eval(self) -> dict[str, Any] | None:
        return _object(read_json(self.paths.eval, self.warnings), self.paths.eval.name, self.warnings)

    def evaluations(self) -> dict[str, dict[str, Any]]:
        """Metrics by split: eval.json's splits, and each `peftspec evaluate` result by its name."""
        out: dict[str, dict[str, Any]] = {}
        for name in self.paths.extra_eval_names():
            path = self.paths.extra_eval(name)
            data = _object(read_json(path, self.warnings), path.name, self.warnings) or {}
            if isinstance(data.get(name), dict):
                out[name] = data[name]
        for split, metrics in (self.eval() or {}).items():
            if split != "thresholds" and isinstance(metrics, dict):
                out[split] = metrics
        return out

    def evaluation_splits(self) -> list[str]:
        """The splits with final metrics: validation, test, then extra evaluations by name."""
        return sorted(self.evaluations(), key=lambda n: (n != "validation", n != "test", n))

    def split_metrics(self, split: str) -> dict[str, Any]:
        return self.evaluations().get(split) or {}

    def evaluation_warnings(self, split: str | None = None) -> list[str]:
        """What the final evaluation warned about (untuned thresholds, input-independent
        predictions); with `split` an extra evaluation's name, what `peftspec evaluate` warned
        about (rows the run trained on)."""
        data = self._extra_evaluation(split) if split is not None else None
        warnings = (data if data is not None else self.eval() or {}).get("warnings")
        return [str(w) for w in warnings] if isinstance(warnings, list) else []

    def evaluation_source(self, split: str) -> str | None:
        """What an extra evaluation (`peftspec evaluate`) scored, in a phrase: `12 rows of all.csv
        (the rows whose part says test)`; None for the run's own splits, or when not recorded."""
        data = self._extra_evaluation(split)
        if not data or not isinstance(data.get("data"), str):
            return None
        rows = data.get("rows")
        said = f"{rows:,} rows of " if isinstance(rows, int) and not isinstance(rows, bool) else ""
        scope = f" ({data['split']})" if isinstance(data.get("split"), str) else ""
        source = data["data"] if data["data"].startswith("hub:") else Path(data["data"]).name
        return f"{said}{source}{scope}"

    def _extra_evaluation(self, name: str | None) -> dict[str, Any] | None:
        """The record `peftspec evaluate` wrote as `name` (None: no such evaluation)."""
        if name is None or name not in self.paths.extra_eval_names():
            return None
        path = self.paths.extra_eval(name)
        return _object(read_json(path, self.warnings), path.name, self.warnings) or {}

    def thresholds_used(self) -> dict[str, Any]:
        """How the final evaluation decided (mode, values, tuned on), as eval.json records it."""
        data = (self.eval() or {}).get("thresholds")
        return data if isinstance(data, dict) else {}

    def threshold_protocol(self) -> str | None:
        """`tuned per label on validation for f1_macro`, or None for fixed thresholds."""
        return threshold_protocol(self.thresholds_used())

    def calibration(self) -> dict[str, Any] | None:
        """How the run's final scores were calibrated (`metrics.calibration`): the temperature its
        logits are divided by, fitted on validation; None for the model's own scores. Read from
        thresholds.json, else eval.json; a record whose temperature is not a positive number is a
        warning, and the run is used uncalibrated."""
        for record in (self.thresholds() or {}, self.thresholds_used()):
            found = record.get("calibration")
            if found is None:
                continue
            if usable_calibration(found):
                return found
            value = found.get("temperature") if isinstance(found, dict) else None
            self._warn(f"calibration: temperature {value!r} is not a positive number; ignored")
            return None
        return None

    def temperature(self) -> float:
        """What the run's logits are divided by before they become scores (1: uncalibrated)."""
        found = self.calibration()
        return float(found["temperature"]) if found else 1.0

    def confusion(self) -> dict[str, Any] | None:
        return _object(
            read_json(self.paths.confusion, self.warnings), self.paths.confusion.name, self.warnings
        )

    def confusions(self) -> dict[str, Any]:
        """Confusion matrices by split, extra evaluations' too."""
        out: dict[str, Any] = {}
        for name in self.paths.extra_eval_names():
            path = self.paths.extra_confusion(name)
            out.update(_object(read_json(path, self.warnings), path.name, self.warnings) or {})
        out.update(self.confusion() or {})
        return {k: v for k, v in out.items() if isinstance(v, dict)}

    def thresholds(self) -> dict[str, Any] | None:
        return _object(
            read_json(self.paths.thresholds, self.warnings), self.paths.thresholds.name, self.warnings
        )

    def spec_text(self) -> str | None:
        try:
            return self.paths.spec.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    def spec_dict(self) -> dict[str, Any]:
        """The resolved spec as a plain dict ({} with a warning when it cannot be read)."""
        text = self.spec_text()
        if text is None:
            return {}
        try:
            return tomllib.loads(text)
        except (tomllib.TOMLDecodeError, RecursionError):
            self.warnings.append(f"{self.paths.spec.name}: unreadable")
            return {}

    @property
    def weights_folder(self) -> Path:
        """Where the trained weights are: the adapter, or the whole model for full fine-tuning."""
        kind = self.record.weights
        if kind is None:  # records before version 2 did not say
            kind = FULL_MODEL if (self.paths.full_model / "config.json").exists() else "adapter"
        return self.paths.weights(kind)

    def predictions(self, name: str | None = None):
        """The saved predictions (of extra evaluation `name`) as a polars DataFrame, or None."""
        path = self.paths.predictions if name is None else self.paths.extra_predictions(name)
        if not path.exists():
            return None
        import polars as pl

        try:
            frame = pl.read_parquet(path)
        except (pl.exceptions.PolarsError, OSError) as exc:
            return self._unusable(path.name, f"unreadable ({type(exc).__name__})")
        missing = [c for c in PREDICTION_COLUMNS if c not in frame.columns and (c != "split" or name is None)]
        if missing:
            return self._unusable(path.name, f"lacks the column(s) {', '.join(missing)}")
        return frame

    def _unusable(self, file: str, why: str) -> None:
        """A predictions file that cannot be used: a warning on the run (once), and None."""
        self._warn(f"{file}: {why}; its rows are left out")
        return None

    def _warn(self, warning: str) -> None:
        """Add `warning` to the run's warnings, once however often the file is read."""
        if warning not in self.warnings:
            self.warnings.append(warning)

    def split_predictions(self, split: str):
        """The saved predictions of one split (validation, test, or an extra evaluation's name),
        or None when there are none."""
        frame = self.predictions()
        if frame is not None and split in set(frame["split"].unique().to_list()):
            return frame.filter(frame["split"] == split)
        if split in ("validation", "test"):
            return None
        frame = self.predictions(split)
        return frame if frame is not None and frame.height else None

    def train_losses(self) -> list[tuple[int, float]]:
        return self.stream.train_losses()

    @property
    def final_train_loss(self) -> float | None:
        losses = self.train_losses()
        return losses[-1][1] if losses else None

    @property
    def best_train_loss(self) -> float | None:
        losses = self.train_losses()
        return min(loss for _, loss in losses) if losses else None


def read_run(path: str | os.PathLike) -> Run:
    """The run directory at `path` as a `Run`; a missing or damaged record is a warning on it."""
    paths = RunPaths(Path(path))
    warnings: list[str] = []
    data = read_json(paths.run_json, warnings)
    if data is None and not warnings:
        warnings.append(f"{paths.run_json.name} missing")
    record, problems = RunRecord.from_stored(data, paths.run_json.name)
    return Run(paths, record, warnings + problems)


def list_runs(root: str | os.PathLike) -> list[Run]:
    """Every run directory directly under `root`, by name."""
    return [read_run(p) for p in run_dirs(root)]


def run_dirs(root: str | os.PathLike) -> list[Path]:
    """The run directories directly under `root`, by name."""
    base = Path(root)
    if not base.is_dir():
        return []
    return sorted(Path(e.path) for e in os.scandir(base) if is_run_dir(e.path))


__all__ = ["Run", "list_runs", "number", "read_json", "read_run", "run_dirs"]
