"""The classes an NxN confusion matrix mixes up most, for the TUI and the report. Plain Python (no
numpy): the TUI runs on the core install."""

from __future__ import annotations


def most_confused(
    labels: list[str], matrix: list[list[int]], limit: int = 3
) -> list[tuple[str, str, int, int]]:
    """The largest off-diagonal cells of an NxN confusion matrix (rows = gold), largest first, ties
    in label order. Empty when every row was predicted as its own class."""
    cells = [(n, i, j) for i, row in enumerate(matrix) for j, n in enumerate(row) if i != j and n > 0]
    cells.sort(key=lambda cell: (-cell[0], cell[1], cell[2]))
    return [(labels[i], labels[j], count, sum(matrix[i])) for count, i, j in cells[:limit]]


def confused_line(labels: list[str], matrix: list[list[int]], limit: int = 3) -> str | None:
    """`most_confused` in one line: `most confused (gold → predicted): neu → pos 3 of 10 · ...`."""
    pairs = most_confused(labels, matrix, limit)
    if not pairs:
        return None
    return "most confused (gold → predicted): " + " · ".join(
        f"{gold} → {predicted} {count} of {total}" for gold, predicted, count, total in pairs
    )
