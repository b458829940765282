"""`peftspec predict RUN project.json -o preannotated.json`: a Label Studio export's tasks written
back with the run's predictions, for import as pre-annotations (a reviewer then accepts or
corrects each instead of labelling from scratch; Label Studio can sort tasks by a prediction's
score, least confident first).

Each task labelled gets one prediction more: `model_version` the run's name, `result` the run's
label column as the control (`from_name`; `to_name` and the result's type as the task's own
annotation of that control says, else the text field and `choices`), and `score` how sure the run
is: a single-label run, its score for the class it chose; a multi-label run, the least sure of its
decisions (a label chosen: its score; a label left out: one less its score). A task whose text is
empty gets none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from peftspec.errors import UsageError

if TYPE_CHECKING:
    import polars as pl

    from peftspec.inference.loaded import LoadedRun


def preannotated(
    tasks: list[dict[str, Any]], frame: pl.DataFrame, loaded: LoadedRun, text_column: str
) -> list[dict]:
    """`tasks` (a Label Studio export, in the order `frame` labelled them) with a prediction each."""
    labels = loaded.spec.dataset.labels
    control = getattr(labels, "column", None)
    if control is None:
        raise UsageError(
            f"{loaded.run.name} was trained on one-hot label columns, which name no Label Studio control",
            hint="write .jsonl, .csv or .parquet instead",
        )
    names = loaded.label_names
    out = []
    for task, row in zip(tasks, frame.iter_rows(named=True), strict=True):
        task = dict(task)
        if row["predicted"] is not None:
            chosen = row["predicted"] if isinstance(row["predicted"], list) else [row["predicted"]]
            scores = {name: row[f"score_{name}"] for name in names}
            sure = (
                [scores[n] if n in chosen else 1 - scores[n] for n in names]
                if loaded.task == "multi_label"
                else [scores[chosen[0]]]
            )
            kind, to_name = _control(task, control, text_column)
            result = {"from_name": control, "to_name": to_name, "type": kind, "value": _value(kind, chosen)}
            prediction = {"model_version": loaded.run.name, "score": round(min(sure), 6), "result": [result]}
            task["predictions"] = [*(task.get("predictions") or []), prediction]
        out.append(task)
    return out


def _control(task: dict[str, Any], control: str, text_column: str) -> tuple[str, str]:
    """(the result's type, its `to_name`) as the task's own annotations use `control`, else a
    `choices` control over the text field (`data.text` -> `text`)."""
    for annotation in task.get("annotations") or []:
        for result in annotation.get("result") or [] if isinstance(annotation, dict) else []:
            if isinstance(result, dict) and result.get("from_name") == control and result.get("type"):
                return str(result["type"]), str(result.get("to_name") or text_column.removeprefix("data."))
    return "choices", text_column.removeprefix("data.")


def _value(kind: str, chosen: list[str]) -> dict[str, Any]:
    if kind == "rating":
        return {"rating": int(float(chosen[0]))}
    if kind == "taxonomy":
        return {"taxonomy": [name.split("/") for name in chosen]}
    return {"choices": chosen}
