"""Label Studio's JSON export (its default "JSON": a list of tasks, each with its `data` and its
`annotations`) read as rows, so a project exported from the annotation tool trains as it is.

Each task is a row: its `id`; its `data` fields as columns named by their path (`data.text`, as
nested records always are); and one column per classification control of the labelling config,
named by the control (`from_name`): the chosen labels of a `choices` control (one name a row when
no task has more than one, else a list: multi-label), the stars of a `rating`, the paths of a
`taxonomy` (`Animals/Dog`). Other results (spans, text areas) are left out.

The annotation read is the one marked ground truth, else the first that was not cancelled; a task
with none has no labels (the data check then names its rows).
"""

from __future__ import annotations

from typing import Any

READ = ("choices", "rating", "taxonomy")
"""The result types read as labels."""


def is_export(rows: Any) -> bool:
    """Whether a JSON list holds Label Studio tasks (objects with `data` and `annotations`)."""
    return (
        isinstance(rows, list)
        and bool(rows)
        and all(isinstance(t, dict) and isinstance(t.get("data"), dict) and "annotations" in t for t in rows)
    )


def task_rows(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The tasks as rows (see the module's docstring)."""
    rows = []
    for task in tasks:
        row: dict[str, Any] = {"id": task.get("id"), "data": task["data"]}
        for result in (_annotation(task) or {}).get("result") or []:
            if isinstance(result, dict) and result.get("type") in READ and result.get("from_name"):
                row[str(result["from_name"])] = _labels(result["type"], result.get("value") or {})
        rows.append(row)
    controls = {key for row in rows for key in row} - {"id", "data"}
    for name in controls:
        values = [row.get(name) for row in rows]
        if all(not isinstance(v, list) or len(v) <= 1 for v in values):  # one choice a task: a class
            for row in rows:
                value = row.get(name)
                row[name] = (value[0] if value else None) if isinstance(value, list) else value
    return rows


def _annotation(task: dict[str, Any]) -> dict[str, Any] | None:
    annotations = [
        a for a in task.get("annotations") or [] if isinstance(a, dict) and not a.get("was_cancelled")
    ]
    return next((a for a in annotations if a.get("ground_truth")), annotations[0] if annotations else None)


def _labels(kind: str, value: dict[str, Any]) -> Any:
    if kind == "rating":
        return value.get("rating")
    if kind == "taxonomy":
        return ["/".join(map(str, path)) for path in value.get("taxonomy") or []]
    return [str(choice) for choice in value.get("choices") or []]
