"""Data problems are caught before any model loads, each named by file, column and row."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from peftspec.build.data import load_data, load_labelled
from peftspec.build.problems import DataError
from peftspec.build.tables import read_file
from peftspec.spec import load_spec
from peftspec.spec.reader import ReaderOptions

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
SEMEVAL = SHARED / "semeval2018_ec"
GOEMOTIONS = SHARED / "goemotions"


def spec_for(write_spec, dataset: str):
    return load_spec(write_spec(f'name = "d"\n[backbone]\nmodel = "m"\n[dataset]\n{dataset}\n'))


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def data_error(write_spec, dataset: str) -> DataError:
    with pytest.raises(DataError) as info:
        load_data(spec_for(write_spec, dataset).dataset)
    return info.value


ONE_HOT = 'labels.columns = ["joy", "anger"]'


def test_missing_column_names_file_and_suggests(write_spec, tmp_path):
    write(tmp_path / "train.csv", "txt,joy,anger\nhello,1,0\nbye,0,1\n")
    err = data_error(write_spec, f'train = "train.csv"\n{ONE_HOT}')
    (problem,) = err.errors
    assert problem.file.endswith("train.csv") and problem.column == "text"
    assert "has no column 'text'" in problem.message and "did you mean 'txt'?" in problem.message


def test_empty_and_null_text_names_rows(write_spec, tmp_path):
    write(tmp_path / "train.csv", "text,joy,anger\nhello,1,0\n,0,1\n   ,1,1\nok,0,0\n")
    (problem,) = data_error(write_spec, f'train = "train.csv"\n{ONE_HOT}').errors
    assert (problem.column, problem.row) == ("text", 2)
    assert "empty or missing text (2 rows); see rows 2, 3" in problem.message


def test_one_problem_row_is_named_once(write_spec, tmp_path):
    write(tmp_path / "train.csv", "text,joy,anger\nhello,1,0\n,0,1\nok,0,0\n")
    (problem,) = data_error(write_spec, f'train = "train.csv"\n{ONE_HOT}').errors
    assert str(problem).endswith("column 'text', row 2: empty or missing text")


def test_one_hot_values_must_be_0_or_1(write_spec, tmp_path):
    write(tmp_path / "train.csv", "text,joy,anger\na,1,0\nb,2,0\nc,0,1\n")
    (problem,) = data_error(write_spec, f'train = "train.csv"\n{ONE_HOT}').errors
    assert (problem.column, problem.row) == ("joy", 2)
    assert "one-hot label columns hold 0 or 1 (or true/false, yes/no), found '2'" in problem.message


def test_label_outside_declared_set(write_spec, tmp_path):
    write(
        tmp_path / "train.jsonl",
        "".join(
            json.dumps(r) + "\n"
            for r in [{"text": "a", "labels": ["joy"]}, {"text": "b", "labels": ["joyy", "anger"]}]
        ),
    )
    labels = '{ format = "delimited", column = "labels", names = ["joy", "anger"] }'
    dataset = f'train = "train.jsonl"\nlabels = {labels}'
    (problem,) = data_error(write_spec, dataset).errors
    assert (problem.column, problem.row) == ("labels", 2)
    assert "label 'joyy' is not one of the declared labels (joy, anger)" in problem.message
    assert "Add it to dataset.labels.names, or correct these rows" in problem.message  # how to fix


def test_index_out_of_range(write_spec, tmp_path):
    write(tmp_path / "train.tsv", "text\tlabels\na\t0,1\nb\t5\n")
    dataset = (
        'train = "train.tsv"\nlabels = { format = "delimited", column = "labels", values = "indices", '
        'names = ["joy", "anger"] }'
    )
    (problem,) = data_error(write_spec, dataset).errors
    assert "label '5' is not one of indices 0..1" in problem.message and problem.row == 2
    assert "name as many labels as the indices need in dataset.labels.names" in problem.message


def test_label_without_positive_example_is_a_warning(write_spec, tmp_path):
    write(tmp_path / "train.csv", "text,joy,anger\n" + "".join(f"t{i},1,0\n" for i in range(10)))
    bundle = load_data(spec_for(write_spec, f'train = "train.csv"\n{ONE_HOT}').dataset)
    (warning,) = bundle.warnings
    assert warning.severity == "warning" and "label 'anger' has no positive example" in warning.message


def test_label_sets_that_differ_between_splits(write_spec, tmp_path):
    write(tmp_path / "train.csv", "text,label\na,pos\nb,neg\nc,pos\n")
    write(tmp_path / "val.csv", "text,label\nd,pos\ne,neutral\n")
    dataset = 'train = "train.csv"\nvalidation = "val.csv"\nlabels = { format = "single", column = "label" }'
    (problem,) = data_error(write_spec, dataset).errors
    assert problem.file.endswith("val.csv") and problem.row == 2
    assert "label 'neutral' is not one of the labels of the training data (neg, pos)" in problem.message
    assert "To keep these rows, list every label in dataset.labels.names" in problem.message


def test_empty_split(write_spec, tmp_path):
    write(tmp_path / "train.csv", "text,joy,anger\na,1,0\n")
    write(tmp_path / "test.csv", "text,joy,anger\n")
    (problem,) = data_error(write_spec, f'train = "train.csv"\ntest = "test.csv"\n{ONE_HOT}').errors
    assert problem.file.endswith("test.csv") and "the test split has no rows" in problem.message


def test_missing_data_file(write_spec, tmp_path):
    (problem,) = data_error(write_spec, f'train = "nope.csv"\n{ONE_HOT}').errors
    assert problem.file.endswith("nope.csv") and problem.message == "data file not found"


def test_every_problem_is_reported_together(write_spec, tmp_path):
    write(tmp_path / "train.csv", "text,joy,anger\na,1,7\n,1,0\n")
    err = data_error(write_spec, f'train = "train.csv"\n{ONE_HOT}')
    assert {p.column for p in err.errors} == {"text", "anger"}


def test_multi_class_single_column_and_hold_out(write_spec, tmp_path):
    rows = "".join(f"t{i},{'pos' if i % 3 else 'neg'}\n" for i in range(50))
    write(tmp_path / "train.csv", "text,label\n" + rows)
    bundle = load_data(
        spec_for(write_spec, 'train = "train.csv"\nlabels = { format = "single", column = "label" }').dataset
    )
    assert bundle.label_names == ["neg", "pos"] and bundle.task == "multi_class"
    assert (len(bundle.train), len(bundle.validation)) == (40, 10)
    assert set(bundle.train.ids).isdisjoint(bundle.validation.ids)


def test_sentence_pairs_and_limit(write_spec, tmp_path):
    rows = "".join(f"a{i},b{i},{i % 2}\n" for i in range(30))
    write(tmp_path / "train.csv", "premise,hypothesis,label\n" + rows)
    dataset = (
        'train = "train.csv"\ntext_column = "premise"\ntext_pair_column = "hypothesis"\nlimit = 20\n'
        'labels = { format = "single", column = "label", values = "indices", names = ["no", "yes"] }'
    )
    bundle = load_data(spec_for(write_spec, dataset).dataset)
    assert bundle.task == "binary" and len(bundle.train) + len(bundle.validation) == 20
    assert bundle.train.pairs[0].startswith("b")


@pytest.mark.skipif(not SEMEVAL.is_dir(), reason="SemEval copy not found in ../shared/data")
def test_semeval_loads_every_row():
    from tests.conftest import SPECS

    bundle = load_data(load_spec(SPECS / "semeval_ec.toml").dataset)
    assert len(bundle.train) + len(bundle.validation) == 6838 + 886
    assert bundle.label_names[0] == "anger" and bundle.train.labels.shape[1] == 11
    assert not any("\r" in t for t in bundle.train.texts)
    assert len(bundle.hashes) == 2


@pytest.mark.skipif(not GOEMOTIONS.is_dir(), reason="GoEmotions copy not found in ../shared/data")
def test_goemotions_index_lists_with_a_names_file(write_spec):
    dataset = (
        f'train = "{GOEMOTIONS / "train.tsv"}"\nlimit = 2000\n'
        'reader = { has_header = false, column_names = ["text", "labels", "id"], quoting = false }\n'
        f'labels = {{ format = "delimited", column = "labels", values = "indices", '
        f'names_file = "{GOEMOTIONS / "labels.txt"}" }}'
    )
    bundle = load_data(spec_for(write_spec, dataset).dataset)
    assert len(bundle.label_names) == 28 and bundle.task == "multi_label"
    assert bundle.train.labels.sum(axis=1).min() >= 1


def test_a_csv_cell_holding_a_written_out_list_is_that_list(write_spec, tmp_path):
    """A list column saved to CSV (JSON, or pandas' Python repr) mixed with plain delimited cells:
    three labels, not `["fear"`, `'joy']` and friends."""
    import csv

    rows = [
        ("a", '["fear", "joy"]'),
        ("b", "['love']"),
        ("c", "fear, love"),
        ("d", "joy"),
        ("e", "[]"),
        ("f", '["fear"]'),
    ]
    with open(tmp_path / "train.csv", "w", newline="") as fh:
        csv.writer(fh).writerows([("text", "labels"), *rows])
    dataset = (
        'train = "train.csv"\nvalidation_split = 0.5\nlabels = { format = "delimited", column = "labels" }'
    )
    bundle = load_data(spec_for(write_spec, dataset).dataset)
    assert bundle.label_names == ["fear", "joy", "love"]
    decoded = {}
    for split in (bundle.train, bundle.validation):
        for text, row in zip(split.texts, split.labels):
            decoded[text] = [bundle.label_names[j] for j in row.nonzero()[0]]
    assert decoded == {
        "a": ["fear", "joy"],
        "b": ["love"],
        "c": ["fear", "love"],
        "d": ["joy"],
        "e": [],
        "f": ["fear"],
    }
    from peftspec.build.labels import cell_labels

    assert cell_labels("[1, 2]", ",") == ["1", "2"]  # indices, written out the same way
    assert cell_labels("[r=8]", ",") == ["[r=8]"]  # a bracketed name that is no list stays a name


def test_a_hub_dataset_out_of_reach_says_how_to_use_it_offline(write_spec, monkeypatch):
    """No connection (here: HF_HUB_OFFLINE and nothing cached): the split, the library's reason,
    and how to get the data onto a machine without one."""
    import datasets.config  # imported first: one imported under the variable would keep it
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    dataset = (
        'train = { hub = "peftspec-tests/not-cached", split = "train" }\n'
        'labels = { format = "single", column = "label" }'
    )
    (problem,) = data_error(write_spec, dataset).errors
    assert problem.file == "hub:peftspec-tests/not-cached[train]"
    assert "cannot load hub dataset" in problem.message
    assert "HF_HUB_OFFLINE is set and it is not in the datasets cache" in problem.message
    assert "copy that cache (HF_HOME) here" in problem.message


def test_a_misspelled_data_file_names_the_one_beside_it(write_spec, tmp_path):
    """`peftspec run` and `peftspec lint` both point at the file of the closest name in the folder."""
    from peftspec.spec.lint import lint

    write(tmp_path / "train.csv", "text,joy,anger\na,1,0\n")
    dataset = f'train = "trian.csv"\n{ONE_HOT}'
    (problem,) = data_error(write_spec, dataset).errors
    assert "data file not found (did you mean 'train.csv', in the same folder?)" in problem.message
    spec = write_spec(f'name = "d"\n[backbone]\nmodel = "m"\n[dataset]\n{dataset}\n')
    (warning,) = [d for d in lint([str(spec)]).diagnostics if d.code == "missing-file"]
    assert warning.suggestion == "train.csv"


def test_inferred_labels_that_differ_only_in_case_or_spacing_are_a_warning(write_spec, tmp_path):
    rows = "".join(
        f"t{i},{label}\n"
        for i, label in enumerate(["pos", "neg", "Pos", "neg ", "very  good", "very good"] * 4)
    )
    write(tmp_path / "train.csv", "text,label\n" + rows)
    bundle = load_data(
        spec_for(write_spec, 'train = "train.csv"\nlabels = { format = "single", column = "label" }').dataset
    )
    assert bundle.label_names == ["Pos", "neg", "pos", "very  good", "very good"]  # " neg" is stripped
    said = [p.message for p in bundle.warnings if "differ only in case or spacing" in p.message]
    assert (
        len(said) == 2 and "labels 'Pos' and 'pos'" in said[0] and "'very  good' and 'very good'" in said[1]
    )


def test_validation_and_test_rows_with_a_training_text_are_counted_in_a_warning(write_spec, tmp_path):
    """Figures on rows the model trained on are optimistic: how many, their share and which."""
    write(tmp_path / "train.csv", "text,label\n" + "".join(f"text {i},{'ab'[i % 2]}\n" for i in range(20)))
    test_rows = ["Text  3", "text 7", "new one", "new two"]  # two seen (case and spacing aside)
    write(tmp_path / "test.csv", "text,label\n" + "".join(f"{t},a\n" for t in test_rows))
    write(tmp_path / "dev.csv", "text,label\nunseen,a\nalso unseen,b\n")
    labels = 'labels = { format = "single", column = "label" }'
    dataset = f'train = "train.csv"\nvalidation = "dev.csv"\ntest = "test.csv"\n{labels}'
    (warning,) = load_data(spec_for(write_spec, dataset).dataset).warnings
    assert warning.file.endswith("test.csv") and warning.column == "text"
    assert "2 of 4 test rows (50.0%) have the text of a training row" in warning.message
    assert "(ids test.csv:1, test.csv:2)" in warning.message


def test_a_pair_is_seen_only_when_both_its_texts_are(write_spec, tmp_path):
    rows = "".join(f"q{i},a{i},{'ab'[i % 2]}\n" for i in range(10))
    write(tmp_path / "train.csv", "text,pair,label\n" + rows)
    write(tmp_path / "test.csv", "text,pair,label\nq1,a1,a\nq2,other,b\n")
    write(tmp_path / "dev.csv", "text,pair,label\nx,y,a\nz,w,b\n")
    labels = 'labels = { format = "single", column = "label" }'
    files = 'train = "train.csv"\nvalidation = "dev.csv"\ntest = "test.csv"'
    dataset = f'{files}\ntext_pair_column = "pair"\n{labels}'
    (warning,) = load_data(spec_for(write_spec, dataset).dataset).warnings
    assert "1 of 2 test rows (50.0%)" in warning.message and "(ids test.csv:1)" in warning.message


def test_training_texts_labelled_two_ways_are_counted_in_a_warning(write_spec, tmp_path):
    """A text that is `pos` in one row and `neg` in another (case and spacing aside) is named; a
    text repeated with the same labels, in one-hot columns too, is not a conflict."""
    rows = [f"text {i},{'ab'[i % 2]}" for i in range(20)]
    rows += ["Text  1,a", "text 2,a", "text 4,a"]  # 1 is b: a conflict; 2 and 4 are a already
    write(tmp_path / "train.csv", "text,label\n" + "\n".join(rows) + "\n")
    write(tmp_path / "dev.csv", "text,label\nunseen,a\nalso unseen,b\n")
    labels = 'labels = { format = "single", column = "label" }'
    (warning,) = load_data(
        spec_for(write_spec, f'train = "train.csv"\nvalidation = "dev.csv"\n{labels}').dataset
    ).warnings
    assert warning.file.endswith("train.csv") and warning.column == "text"
    said = warning.message
    assert (
        "1 training text appears more than once with different labels (2 rows; ids train.csv:2 = "
        "train.csv:21)" in said
    )
    onehot = "text,joy,fear\nsame words,1,0\nsame words,1,0\nother,0,1\nagain,1,1\nAgain,0,1\n"
    write(tmp_path / "train.csv", onehot)
    write(tmp_path / "dev.csv", "text,joy,fear\nx,1,0\ny,0,1\n")
    dataset = 'train = "train.csv"\nvalidation = "dev.csv"\nlabels.columns = ["joy", "fear"]'
    (warning,) = load_data(spec_for(write_spec, dataset).dataset).warnings
    assert (
        "1 training text appears more than once" in warning.message
        and "train.csv:4 = train.csv:5" in warning.message
    )


def test_a_file_separated_by_semicolons_is_named_as_such(write_spec, tmp_path):
    """A spreadsheet export with `;` between fields reads as one column named `text;label`: the
    error says which separator to set, and suggests no column name made of both."""
    write(tmp_path / "train.csv", "text;label\n" + "".join(f"t{i};{'ab'[i % 2]}\n" for i in range(10)))
    with pytest.raises(DataError) as info:
        load_data(
            spec_for(
                write_spec, 'train = "train.csv"\nlabels = { format = "single", column = "label" }'
            ).dataset
        )
    for problem in info.value.errors:
        assert problem.message.endswith(
            "the header looks separated by ';': set dataset.reader.separator = \";\""
        )
        assert "did you mean" not in problem.message


TEXTS = ["C'est très bien", "Schöne Grüße", "¿Qué tal?", "plain text"]


@pytest.mark.parametrize(
    ("name", "encoding", "said"),
    [
        ("excel.csv", "cp1252", "line 2 is not UTF-8: byte 0xE8 there reads as 'è' in cp1252"),
        ("unicode-text.tsv", "utf16", "the file starts with a UTF-16 byte-order mark"),
        ("unicode.csv", "utf16", "the file starts with a UTF-16 byte-order mark"),  # polars reads NULs
        ("rows.jsonl", "latin1", "line 1 is not UTF-8: byte 0xE8 there reads as 'è' in cp1252"),
    ],
)
def test_a_file_not_in_utf8_names_its_likely_encoding_and_reads_in_the_one_set(
    write_spec, tmp_path, name, encoding, said
):
    if name.endswith(".jsonl"):
        body = "".join(
            json.dumps({"text": t, "joy": i % 2}, ensure_ascii=False) + "\n" for i, t in enumerate(TEXTS)
        )
    else:
        sep = "\t" if name.endswith(".tsv") else ","
        body = f"text{sep}joy\n" + "".join(f"{t}{sep}{i % 2}\n" for i, t in enumerate(TEXTS))
    (tmp_path / name).write_bytes(
        body.encode({"utf16": "utf-16", "cp1252": "cp1252", "latin1": "latin-1"}[encoding])
    )
    dataset = f'train = "{name}"\nvalidation = "{name}"\nlabels.columns = ["joy"]'
    problems = data_error(write_spec, dataset).errors  # one a split
    likely = "utf16" if encoding == "utf16" else "cp1252"  # Latin-1 text decodes as Windows-1252 too
    assert {p.file for p in problems} == {str(tmp_path / name)} and len(problems) == 2
    for problem in problems:
        assert said in problem.message and f'set dataset.reader.encoding = "{likely}"' in problem.message
    bundle = load_data(spec_for(write_spec, f'{dataset}\nreader.encoding = "{encoding}"').dataset)
    assert bundle.train.texts == TEXTS and bundle.validation.texts == TEXTS


def test_a_file_that_is_not_in_the_encoding_set_says_so_at_its_line(write_spec, tmp_path):
    (tmp_path / "t.csv").write_bytes(b"text,joy\nfine,1\n" + b"\x81 undefined in cp1252,0\n")
    dataset = 'train = "t.csv"\nlabels.columns = ["joy"]\nreader.encoding = "cp1252"'
    (problem,) = data_error(write_spec, dataset).errors
    assert "line 3 is not cp1252" in problem.message and "utf8-lossy" in problem.message


def write_workbook(path: Path, sheets: dict[str, list[list]]) -> Path:
    """An .xlsx file with these sheets, each a list of rows (the first its header)."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    for name, rows in sheets.items():
        sheet = book.add_worksheet(name)
        for i, row in enumerate(rows):
            sheet.write_row(i, 0, row)
    book.close()
    return path


def test_an_excel_sheet_is_read_as_text_cells_as_the_user_sees_them(write_spec, tmp_path):
    rows = [["text", "joy", "anger", "stars"]]
    rows += [[f"row {i} é", float(i % 2), bool(i % 3 == 0), float(1 + i % 5)] for i in range(12)]
    write_workbook(tmp_path / "data.xlsx", {"Notes": [["written by the annotators"]], "Labelled": rows})
    one_hot = 'train = "data.xlsx"\nlabels.columns = ["joy", "anger"]\nreader.sheet = "Labelled"'
    bundle = load_data(spec_for(write_spec, one_hot).dataset)
    read = {t: list(y) for s in bundle.splits() for t, y in zip(s.texts, s.labels.tolist())}
    assert read == {f"row {i} é": [float(i % 2), float(i % 3 == 0)] for i in range(12)}
    single = (
        'train = "data.xlsx"\nlabels = { format = "single", column = "stars" }\nreader.sheet = "Labelled"'
    )
    assert load_data(spec_for(write_spec, single).dataset).label_names == ["1", "2", "3", "4", "5"]  # not 1.0
    (problem,) = data_error(write_spec, one_hot.replace('"Labelled"', '"labeled"')).errors
    assert "sheet = \"labeled\" is not a sheet of this workbook (did you mean 'Labelled'?)" in problem.message
    (problem,) = data_error(write_spec, one_hot.replace('\nreader.sheet = "Labelled"', "")).errors
    assert "the workbook's first sheet, 'Notes', has no rows" in problem.message
    assert 'dataset.reader.sheet = "Labelled"' in problem.message


def test_one_workbook_holds_each_split_on_its_own_sheet(write_spec, tmp_path):
    def rows(split: str, n: int, labels=("pos", "neg")) -> list[list]:
        return [["text", "label"], *([f"{split} text {i}", labels[i % len(labels)]] for i in range(n))]

    sheets = {
        "Notes": [["read me"]],
        "Train": rows("train", 12),
        "Dev": rows("dev", 4),
        "Test": rows("test", 6),
    }
    write_workbook(tmp_path / "book.xlsx", sheets)
    per_split = (
        'train = "book.xlsx"\nvalidation = "book.xlsx"\ntest = "book.xlsx"\n'
        'labels = { format = "single", column = "label" }\n'
        'reader.sheet = { train = "Train", validation = "Dev", test = "Test" }'
    )
    bundle = load_data(spec_for(write_spec, per_split).dataset)
    read = {split.name: split.texts for split in bundle.splits()}
    sheet_of = {"train": ("train", 12), "validation": ("dev", 4), "test": ("test", 6)}
    assert read == {split: [f"{word} text {i}" for i in range(n)] for split, (word, n) in sheet_of.items()}
    assert bundle.validation.ids[:2] == ["book.xlsx[Dev]:2", "book.xlsx[Dev]:3"]  # each sheet's own rows
    assert bundle.test.ids[0] == "book.xlsx[Test]:2"
    spec = spec_for(write_spec, per_split).dataset  # `peftspec evaluate RUN BOOK`: the run's test sheet
    evaluated, _ = load_labelled(spec, [str(tmp_path / "book.xlsx")], bundle.label_names)
    assert evaluated.texts == bundle.test.texts
    (problem,) = data_error(write_spec, per_split.replace('test = "Test"', 'test = "Tset"')).errors
    assert "dataset.reader.sheet.test = \"Tset\" is not a sheet of this workbook (did you mean 'Test'?)" in (
        problem.message
    )
    no_sheet = per_split.replace('validation = "Dev", ', "")  # the first sheet, Notes, holds no rows
    (problem,) = data_error(write_spec, no_sheet).errors
    assert 'name the sheet that holds them (dataset.reader.sheet.validation = "Dev")' in problem.message
    sheets["Test"] = rows("test", 6, ("pos", "neg", "neutral"))
    write_workbook(tmp_path / "book.xlsx", sheets)
    (problem,) = data_error(write_spec, per_split).errors
    assert problem.file.endswith("book.xlsx[Test]") and problem.row == 4 and "'neutral'" in problem.message


def test_a_workbook_row_is_named_by_the_number_the_spreadsheet_shows(write_spec, tmp_path):
    import xlsxwriter

    book = xlsxwriter.Workbook(str(tmp_path / "data.xlsx"))
    sheet = book.add_worksheet("Labelled")
    sheet.write_row(2, 1, ["text", "label"])  # the header on row 3, from column B
    for row in range(3, 20):  # rows 9 and 10 left blank; row 15 has no text
        if row not in (8, 9):
            sheet.write_row(row, 1, ["" if row == 14 else f"text {row + 1}", "ab"[row % 2]])
    book.close()
    dataset = 'train = "data.xlsx"\nlabels = { format = "single", column = "label" }'
    (problem,) = data_error(write_spec, dataset).errors
    assert problem.row == 15 and problem.column == "text" and "empty or missing text" in problem.message
    read = read_file(str(tmp_path / "data.xlsx"), ReaderOptions())
    assert read.columns == ["text", "label", "__file", "__row"] and read["text"][0] == "text 4"
    assert read["__row"].to_list() == [r + 1 for r in range(3, 20) if r not in (8, 9)]
    write(tmp_path / "data.xlsx", "text,label\nhello,a\n")  # a CSV file named as a workbook
    (problem,) = data_error(write_spec, dataset).errors
    assert "cannot read as a workbook" in problem.message and "CSV or TSV" in problem.message


def test_a_split_column_divides_one_file_into_its_splits(write_spec, tmp_path):
    lines = ["text,label,split"]
    said = ["train", "Train ", "TRAINING", "dev", "train", "test", "train", "Validation", "testing", "train"]
    lines += [f"text {i},{'ab'[i % 2]},{said[i % len(said)]}" for i in range(40)]
    write(tmp_path / "all.csv", "\n".join(lines) + "\n")
    dataset = 'train = "all.csv"\nsplit_column = "split"\nlabels = { format = "single", column = "label" }'
    bundle = load_data(spec_for(write_spec, dataset).dataset)
    rows = {split.name: len(split) for split in bundle.splits()}
    assert rows == {"train": 24, "validation": 8, "test": 8} and not bundle.held_out
    assert (
        bundle.test.texts[:2] == ["text 5", "text 8"] and bundle.test.ids[0] == "all.csv:6"
    )  # the file's rows
    limited = load_data(spec_for(write_spec, dataset + "\nlimit = { train = 5, test = 2 }").dataset)
    assert {split.name: len(split) for split in limited.splits()} == {"train": 5, "validation": 8, "test": 2}
    (problem,) = data_error(write_spec, dataset.replace('"split"', '"splt"')).errors
    assert "dataset.split_column: no column 'splt' (did you mean 'split'?)" in problem.message
    write(tmp_path / "all.csv", "\n".join([*lines, "more,a,holdout", "again,b,"]) + "\n")
    (problem,) = data_error(write_spec, dataset).errors
    assert problem.row == 41 and "'holdout' names no split (2 rows)" in problem.message
    assert "validation (dev/validation/valid/val/development)" in problem.message
    kept = [line for line in lines if not line.endswith(("dev", "Validation"))]
    write(tmp_path / "all.csv", "\n".join(kept) + "\n")
    held = load_data(spec_for(write_spec, dataset).dataset)  # no validation rows: training rows held out
    assert held.held_out and len(held.validation) + len(held.train) == 24
    (problem,) = data_error(
        write_spec, dataset.replace('split_column = "split"', 'split_column = "label"')
    ).errors
    assert "'a', 'b' names no split" in problem.message  # a column that names no split at all


def test_a_split_column_beside_validation_or_test_files_is_refused(write_spec):
    from peftspec.spec import check_spec

    result = check_spec(
        write_spec(
            'name = "d"\n[backbone]\nmodel = "m"\n[dataset]\ntrain = "all.csv"\ntest = "t.csv"\n'
            'split_column = "split"\nlabels.columns = ["a", "b"]\n'
        )
    )
    (error,) = result.errors
    assert error.path == "dataset.split_column" and "and test data is given too" in error.message


def test_a_title_above_the_table_is_refused_with_the_skip_rows_that_reads_it(write_spec, tmp_path):
    """A spreadsheet exported with a title (and a blank row) above its header: read from the first
    line, its columns come out unnamed (or its lines longer than the "header"); refused with where
    the header is. `reader.skip_rows` reads it, and the rows keep their own numbers."""
    import xlsxwriter

    rows = ["id,comment,sentiment", *(f"{i},comment number {i},{'pn'[i % 2]}" for i in range(20))]
    write(tmp_path / "titled.csv", "Customer feedback export,,\n\n" + "\n".join(rows) + "\n")
    write(tmp_path / "ragged.csv", "Customer feedback export\n" + "\n".join(rows) + "\n")
    book = xlsxwriter.Workbook(str(tmp_path / "titled.xlsx"))
    sheet = book.add_worksheet("Batch")
    sheet.write(0, 0, "Customer feedback export")
    for i, row in enumerate(rows):
        sheet.write_row(3 + i, 0, row.split(","))  # the header on row 4
    book.close()
    labels = 'text_column = "comment"\nlabels = { format = "single", column = "sentiment" }'
    for name, unit, skip in (("titled.csv", "line", 2), ("ragged.csv", "line", 1), ("titled.xlsx", "row", 3)):
        dataset = f'train = "{name}"\n{labels}'
        (problem,) = data_error(write_spec, dataset).errors
        assert f"the table's header ('id', 'comment', 'sentiment') is {unit} {skip + 1}" in problem.message
        assert (
            f"below a title or notes ('Customer feedback export'): set dataset.reader.skip_rows = {skip}"
            in (problem.message)
        )
        bundle = load_data(spec_for(write_spec, f"{dataset}\nreader.skip_rows = {skip}").dataset)
        assert len(bundle.train) + len(bundle.validation) == 20
    read = read_file(str(tmp_path / "titled.xlsx"), ReaderOptions(skip_rows=3))
    assert read["__row"].to_list()[:2] == [5, 6] and read["comment"][0] == "comment number 0"
    write(tmp_path / "plain.csv", "\n".join(rows) + "\n")  # the same table with no title: not to be cut
    both = f'train = "titled.csv"\nvalidation = "plain.csv"\n{labels}\nreader.skip_rows = 2'
    (problem,) = data_error(write_spec, both).errors
    assert problem.file.endswith("plain.csv")
    assert (
        "skipping 2 line(s) (skip_rows) would skip line 1, which holds as many values as" in problem.message
    )
    assert "no title above its table; read it with dataset.reader.skip_rows = 0" in problem.message
    (problem,) = data_error(write_spec, f'train = "titled.xlsx"\n{labels}\nreader.skip_rows = 5').errors
    assert "would skip row 4, which holds as many values as the table's header" in problem.message
    write(
        tmp_path / "titled.csv", "Customer feedback export,,\n\n" + "\n".join(rows[:5]) + "\n1,two,too,many\n"
    )
    (problem,) = data_error(write_spec, f'train = "titled.csv"\n{labels}\nreader.skip_rows = 2').errors
    assert "line 8 has 4 fields, the header has 3" in problem.message  # the file's own line numbers


def test_a_header_name_with_a_stray_space_is_pointed_out(write_spec, tmp_path):
    write(tmp_path / "sp.csv", " text ,label \nhello there,a\nbye now,b\nhi,a\nyo,b\nok,a\n")
    (problem,) = data_error(
        write_spec, 'train = "sp.csv"\nlabels = { format = "single", column = "label " }'
    ).errors
    assert (
        "no column 'text' (the header has ' text ', with a space before and after the name" in problem.message
    )
    labels = 'labels = { format = "single", column = "label" }'
    (problem,) = data_error(write_spec, f'train = "sp.csv"\ntext_column = " text "\n{labels}').errors
    assert "the header has 'label ', with a space after the name" in problem.message
    asked = 'train = "sp.csv"\ntext_column = "text "\nlabels = { format = "single", column = "label " }'
    (problem,) = data_error(write_spec, asked).errors
    assert (
        "no column 'text ' (the name asked for has spaces around it; the header has ' text ')"
        in problem.message
    )


def test_the_shape_of_the_first_rows_tells_a_title_from_a_table():
    from peftspec.build.title_rows import find_title_rows, skipped_table_row

    titled = [["Feedback, batch 3"], [], ["id", "text", "label"], ["1", "hi", "a"]]
    found = find_title_rows(titled)
    assert found is not None and (found.skip, found.title, found.header) == (
        2,
        "Feedback, batch 3",
        titled[2],
    )
    assert find_title_rows([["text"], ["hello, world"], ["plain"]]) is None  # a lone comma, not a table
    assert find_title_rows([["id", "text"], ["1", "hi"]]) is None  # the header comes first
    assert skipped_table_row(titled, 2) is None  # title and blank line: nothing of the table
    assert skipped_table_row([["id", "text"], ["1", "hi"], ["2", "yo"]], 1) == 0  # the header itself
    assert skipped_table_row([["k", "v"]] * 30, 40) is None  # the header past the rows looked at
