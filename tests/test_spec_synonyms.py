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


def test_every_value_synonym_points_at_an_allowed_value_of_a_key_so_named():
    """Each value synonym's target is one of the values some field of that name allows, and never
    an allowed value itself (it would hide it)."""
    import typing

    from peftspec.spec.synonyms import VALUE_SYNONYMS

    def literals(annotation) -> set[str]:
        if typing.get_origin(annotation) is typing.Literal:
            return set(typing.get_args(annotation))
        return {v for arg in typing.get_args(annotation) for v in literals(arg)}

    def allowed(model, key) -> set[str]:
        found = set()
        for name, info in model.model_fields.items():
            if name == key:
                found |= literals(info.annotation)
            for sub in _models_in(info.annotation):
                found |= allowed(sub, key)
        return found

    for key, values in VALUE_SYNONYMS.items():
        words = allowed(Spec, key)
        assert words, f"no field named {key} with words"
        for other, target in values.items():
            assert target in words and other not in words, (key, other, target)


def test_other_tools_values_are_suggested_before_the_nearest_spelling(tmp_path):
    from peftspec.spec import check_spec

    cases = {
        ("trainer", "optimizer", "adamw"): "adamw_torch_fused",  # the nearest spelling: adamw_8bit
        ("backbone", "pooling", "avg"): "mean",
        ("backbone", "attention", "flash"): "flash_attention_2",
        ("quantization", "method", "qlora"): "bnb-4bit",
        ("trainer", "optimizer", "adamw_8bi"): "adamw_8bit",  # no synonym: the spelling decides
    }
    for (table, key, value), expected in cases.items():
        path = tmp_path / "spec.toml"
        base = 'name = "x"\n[dataset]\ntrain = "t.csv"\nlabels.columns = ["a"]\n'
        body = f'[{table}]\n{key} = "{value}"\n' + ('model = "m"\n' if table == "backbone" else "")
        path.write_text(base + body + ('[backbone]\nmodel = "m"\n' if table != "backbone" else ""))
        (error,) = check_spec(path).errors
        assert error.suggestion == expected, (key, value, error)
    path.write_text(
        'name = "x"\n[dataset]\ntrain = "t.csv"\ntask = "single_label"\nlabels.columns = ["a"]\n'
        '[backbone]\nmodel = "m"\n'
    )
    (error,) = check_spec(path).errors
    assert error.suggestion == "multi_class", error  # the nearest spelling, multi_label, means the opposite
