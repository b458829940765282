"""Other tools' names for peftspec's keys (`peftspec.spec.synonyms`) point at keys that exist, in
the table they name, and never hide a real key."""

from __future__ import annotations

from peftspec.spec.root import Spec
from peftspec.spec.synonyms import SYNONYMS, known_as, known_elsewhere
from peftspec.spec.translate import _models_in


def keys_of(table: str) -> set[str]:
    """Every key any kind of the table `table` (dotted) accepts."""
    models = [Spec]
    for part in table.split("."):
        models = [
            sub
            for m in models
            if part in m.model_fields
            for sub in _models_in(m.model_fields[part].annotation)
        ]
    assert models, f"no table [{table}] in the spec"
    return {name for m in models for name in m.model_fields}


def test_every_synonym_names_a_key_of_its_table_and_hides_none():
    for table, names in SYNONYMS.items():
        keys = keys_of(table)
        for other, known in names.items():
            assert known.key in keys, f"[{table}] {other} -> {known.key}: no such key"
            assert other not in keys, f"[{table}] {other} is a key of its own"
            assert other == other.lower()


def test_a_synonym_is_found_whatever_its_case():
    assert known_as("trainer", "Num_Train_Epochs").key == "epochs"
    assert known_as("trainer", "learning_rate") is None
    assert known_as("adapter", "num_train_epochs") is None  # per table


def test_a_name_known_in_one_other_table_is_found_there():
    assert known_elsewhere("max_seq_length") == ("dataset", known_as("dataset", "max_seq_length"))
    assert known_elsewhere("learning_rate") is None  # peftspec's own name: not a synonym
