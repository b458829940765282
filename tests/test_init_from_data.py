"""`peftspec init --data TRAIN`: a new user's file becomes a spec whose [dataset] is guessed from
the values, each guess said, and checked by reading the data as a run would. Shapes a user brings:
one-hot columns with dev and test files beside them, a headerless TSV of label indices, sentence
pairs, a single class column, lists in JSON lines, quotes that are literal text."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from peftspec.spec import check_spec
from tests.helpers.cli import peftspec
from tests.helpers.tiny import EMOTIONS, synthetic_rows, write_csv, write_jsonl


def write_lines(path: Path, lines: list[str]) -> None:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def init(tmp_path: Path, data: str, *extra: str):
    proc = peftspec(tmp_path, "init", "spec.toml", "--data", data, *extra)
    text = (tmp_path / "spec.toml").read_text(encoding="utf-8") if (tmp_path / "spec.toml").exists() else ""
    return proc, (tomllib.loads(text) if text else {}), text


def assert_clean(tmp_path: Path) -> None:
    result = check_spec(tmp_path / "spec.toml")
    assert result.spec is not None and result.diagnostics == [], result.diagnostics


def test_one_hot_columns_with_dev_and_test_files_beside_them(tmp_path: Path):
    (tmp_path / "data").mkdir()
    for split, n in (("train", 60), ("dev", 20), ("test", 20)):
        rows = [{"tweet_id": f"{split}-{i}", **r} for i, r in enumerate(synthetic_rows(n, seed=len(split)))]
        write_csv(
            [{k: v for k, v in r.items() if k != "id"} for r in rows], tmp_path / "data" / f"emo-{split}.csv"
        )
    proc, spec, text = init(tmp_path, "data/emo-train.csv")
    assert proc.returncode == 0, proc.stderr
    dataset = spec["dataset"]
    assert dataset["train"] == "data/emo-train.csv" and dataset["validation"] == "data/emo-dev.csv"
    assert dataset["test"] == "data/emo-test.csv" and "validation_split" not in dataset
    assert dataset["text_column"] == "text" and dataset["id_column"] == "tweet_id"
    assert dataset["labels"] == {"format": "one_hot", "columns": EMOTIONS}
    assert spec["name"] == "emo" and "reader" not in dataset
    assert "# [dataset] was guessed from the data" in text and "one_hot" in proc.stdout
    assert "Checked by reading the data as a run would: rows: train 60, validation 20, test 20" in proc.stdout
    assert "multi-label, 4 labels" in proc.stdout
    assert "--folds" not in proc.stdout  # a validation file of its own: no advice
    assert_clean(tmp_path)


def test_a_headerless_tsv_of_label_indices_gets_column_names(tmp_path: Path):
    lines = [f"some words here {i}\t{i % 3},{(i + 1) % 3}\tab{i:03d}x" for i in range(40)]
    write_lines(tmp_path / "train.tsv", lines)
    proc, spec, _ = init(tmp_path, "train.tsv")
    assert proc.returncode == 0, proc.stderr
    dataset = spec["dataset"]
    assert dataset["reader"] == {"column_names": ["text", "labels", "id"]}
    assert dataset["labels"] == {"format": "delimited", "column": "labels", "delimiter": ","}
    assert dataset["id_column"] == "id" and dataset["validation_split"] == 0.2
    assert "no header row" in proc.stdout and 'values = "indices"' in proc.stdout
    assert "rows: train 32, validation 8" in proc.stdout  # the first line is data, not a header
    advice = " ".join(proc.stdout.split()).split("Small data: ", 1)[1]  # 8 held-out rows are few
    assert advice.startswith("validation is 8 held-out rows") and "--folds 5` validates on every" in advice
    assert_clean(tmp_path)


def test_sentence_pairs_and_a_single_class(tmp_path: Path):
    rows = [
        {
            "premise": f"a man walks his dog {i}",
            "hypothesis": "a person moves",
            "label": ["entail", "neutral"][i % 2],
        }
        for i in range(30)
    ]
    write_jsonl(rows, tmp_path / "nli.jsonl")
    proc, spec, _ = init(tmp_path, "nli.jsonl", "--model", "some-org/some-model")
    assert proc.returncode == 0, proc.stderr
    dataset = spec["dataset"]
    assert dataset["text_column"] == "premise" and dataset["text_pair_column"] == "hypothesis"
    assert dataset["labels"] == {"format": "single", "column": "label"}
    assert "dataset.task = \"binary\", which scores f1, precision and recall on 'neutral'" in proc.stdout
    # a model of the user's: peftspec's defaults for it, not BERT's module names or learning rate
    assert spec["backbone"]["model"] == "some-org/some-model"
    assert "target_modules" not in spec["adapter"] and "learning_rate" not in spec["trainer"]
    assert spec["name"] == "nli" and "'premise' and 'hypothesis'" in spec["description"]


def test_label_lists_in_json_lines(tmp_path: Path):
    rows = [{"text": f"words {i} " * 3, "labels": [["joy"], ["fear", "joy"], []][i % 3]} for i in range(30)]
    write_jsonl(rows, tmp_path / "train.jsonl")
    proc, spec, _ = init(tmp_path, "train.jsonl")
    assert proc.returncode == 0, proc.stderr
    assert spec["dataset"]["labels"] == {"format": "delimited", "column": "labels"}
    assert "multi-label, 2 labels: fear, joy" in proc.stdout
    assert spec["name"] == tmp_path.name  # a file named train: its folder's name


def test_rows_under_a_key_of_one_json_object_set_the_readers_field(tmp_path: Path):
    """SQuAD-style files wrap their rows in an object: init finds the list and says so, and the
    spec it writes reads the file (with a dev file beside it in the same shape)."""
    import json

    for name, n in (("train.json", 40), ("dev.json", 12)):
        rows = [
            {"sentence": f"words {i} " * 3, "tags": [["joy"], ["fear", "joy"], []][i % 3]} for i in range(n)
        ]
        (tmp_path / name).write_text(json.dumps({"version": "1.1", "data": rows}), encoding="utf-8")
    proc, spec, _ = init(tmp_path, "train.json")
    assert proc.returncode == 0, proc.stderr
    assert spec["dataset"]["reader"] == {"field": "data"}
    assert spec["dataset"]["validation"] == "dev.json"
    assert "its rows are the list under 'data'" in proc.stdout
    assert "rows: train 40, validation 12; multi-label, 2 labels: fear, joy" in proc.stdout
    assert_clean(tmp_path)


def test_quotes_that_are_literal_text_turn_quoting_off(tmp_path: Path):
    """A tweet that opens with a straight quote it never closes: with `"` as a quote character the
    rest of the file is one cell."""
    lines = ["ID\tTweet\tjoy\tanger"]
    quote = '"'
    lines += [
        f"id{i}\t{quote if i == 3 else ''}tweet {i} about things\t{i % 2}\t{(i + 1) % 2}" for i in range(30)
    ]
    write_lines(tmp_path / "tweets-train.txt", lines)
    proc, spec, _ = init(tmp_path, "tweets-train.txt")
    assert proc.returncode == 0, proc.stderr
    assert spec["dataset"]["reader"] == {"quoting": False}
    assert "quotes are literal text" in proc.stdout and "rows: train 24, validation 6" in proc.stdout
    assert_clean(tmp_path)


def test_a_file_with_no_label_column_is_refused_with_what_to_do(tmp_path: Path):
    rows = [{"text": f"a sentence of words number {i}", "note": f"unique note {i}"} for i in range(20)]
    write_csv(rows, tmp_path / "train.csv")
    proc, _, _ = init(tmp_path, "train.csv")
    assert proc.returncode == 1 and "no column looks like labels" in proc.stderr
    assert "'note'" in proc.stderr and "peftspec init" in proc.stderr
    assert not (tmp_path / "spec.toml").exists()


def test_a_missing_data_file_is_said(tmp_path: Path):
    proc, _, _ = init(tmp_path, "nowhere.csv")
    assert proc.returncode == 1 and "nowhere.csv: no such data file" in proc.stderr


def test_a_pandas_index_and_a_metadata_list_do_not_mislead_it(tmp_path: Path):
    """pandas writes its index as a first column with an empty name (a header all the same), and a
    column named as labels wins over a metadata column that also holds a few names a row."""
    rows = [",review,keywords,label"]
    rows += [
        f'{i},"the plot was {["fine", "dull"][i % 2]} {i}","a, b",{["pos", "neg"][i % 2]}' for i in range(40)
    ]
    write_lines(tmp_path / "reviews.csv", rows)
    proc, spec, _ = init(tmp_path, "reviews.csv")
    assert proc.returncode == 0, proc.stderr
    dataset = spec["dataset"]
    assert "reader" not in dataset and dataset["text_column"] == "review"
    assert dataset["labels"] == {"format": "single", "column": "label"}
    assert "rows: train 32, validation 8" in proc.stdout


def test_of_unnamed_class_columns_the_last_is_taken_and_the_others_named(tmp_path: Path):
    rows = ["text,source,stars"] + [f"words number {i},{'ab'[i % 2]},{i % 5 + 1}" for i in range(40)]
    write_lines(tmp_path / "data.csv", rows)
    proc, spec, _ = init(tmp_path, "data.csv")
    assert proc.returncode == 0, proc.stderr
    assert spec["dataset"]["labels"] == {"format": "single", "column": "stars"}
    assert "other columns of few values: 'source'" in proc.stdout


def test_a_second_free_text_column_is_named_not_dropped_silently(tmp_path: Path):
    rows = ["label,title,description"]
    rows += [
        f'{i % 4 + 1},"Title {i}","A longer description of news item {i} in more words"' for i in range(40)
    ]
    write_lines(tmp_path / "news.csv", rows)
    proc, spec, _ = init(tmp_path, "news.csv")
    assert proc.returncode == 0, proc.stderr
    assert spec["dataset"]["text_column"] == "description" and "text_pair_column" not in spec["dataset"]
    assert "also free text, unused: 'title'" in proc.stdout
    assert "classes are named by their values" in proc.stdout


def test_a_semicolon_separated_csv_and_too_few_rows(tmp_path: Path):
    rows = ["texte;étiquette"] + [f"phrase numéro {i} avec des mots;{'ab'[i % 2]}" for i in range(30)]
    write_lines(tmp_path / "fr.csv", rows)
    proc, spec, _ = init(tmp_path, "fr.csv")
    assert proc.returncode == 0, proc.stderr
    assert spec["dataset"]["reader"] == {"separator": ";"} and spec["dataset"]["text_column"] == "texte"
    assert spec["dataset"]["labels"] == {"format": "single", "column": "étiquette"}
    (tmp_path / "spec.toml").unlink()
    (tmp_path / "one.csv").write_text("text,label\nhello,a\n", encoding="utf-8")
    proc, _, _ = init(tmp_path, "one.csv")
    assert proc.returncode == 1 and "one.csv has 1 data row(s): too few to guess from" in proc.stderr


def test_a_spec_in_a_new_folder_reads_its_data_relative_to_itself(tmp_path: Path):
    rows = ["text,label"] + [f"words number {i},{'ab'[i % 2]}" for i in range(20)]
    write_lines(tmp_path / "train.csv", rows)
    proc = peftspec(tmp_path, "init", "specs/new/spec.toml", "--data", "train.csv")
    assert proc.returncode == 0, proc.stderr
    spec = tomllib.loads((tmp_path / "specs" / "new" / "spec.toml").read_text(encoding="utf-8"))
    assert spec["dataset"]["train"] == "../../train.csv"
    assert check_spec(tmp_path / "specs" / "new" / "spec.toml").spec is not None


def test_an_id_column_is_found_in_a_file_longer_than_the_rows_looked_at(tmp_path: Path):
    """Only the first rows of each column are typed; an id column of a longer file is one all the
    same, and codes without spaces are no second text."""
    from peftspec.build.guess_columns import SAMPLE

    rows = ["ID,Tweet,joy,anger"] + [
        f"2017-En-{i:05d},a tweet about things number {i},{i % 2},{(i // 2) % 2}" for i in range(SAMPLE + 500)
    ]
    write_lines(tmp_path / "tweets-train.csv", rows)
    proc, spec, _ = init(tmp_path, "tweets-train.csv")
    assert proc.returncode == 0, proc.stderr
    assert spec["dataset"]["id_column"] == "ID" and "also free text" not in proc.stdout


def test_max_length_counts_tokens_with_the_models_tokenizer(tmp_path: Path):
    """Short words are many tokens for few characters: the 4-characters-a-token estimate would say
    64, the backbone's own tokenizer counts about 100 tokens a text and says 128."""
    from tests.helpers.tiny import make_backbone

    make_backbone("bert", tmp_path / "bert")
    write_lines(
        tmp_path / "train.csv", ["text,label", *(f"{'a b ' * 50}{i},{'xy'[i % 2]}" for i in range(40))]
    )
    proc, spec, _ = init(tmp_path, "train.csv")
    assert spec["dataset"]["max_length"] == 64 and "4 characters a token" in " ".join(proc.stdout.split())
    (tmp_path / "spec.toml").unlink()
    proc, spec, _ = init(tmp_path, "train.csv", "--model", "./bert")
    assert proc.returncode == 0, proc.stderr
    assert spec["dataset"]["max_length"] == 128, proc.stdout
    assert "at most 103 tokens, counted with ./bert's tokenizer on 40 rows" in " ".join(proc.stdout.split())
    assert_clean(tmp_path)


def test_yes_no_flag_columns_are_one_hot_labels(tmp_path: Path):
    lines = ["id,comment,toxic,threat,insult"]
    for i in range(40):
        flags = ["yes" if (i >> b) & 1 else "No" for b in range(3)]
        lines.append(f"c{i},comment number {i} with some words,{','.join(flags)}")
    write_lines(tmp_path / "train.csv", lines)
    proc, spec, _ = init(tmp_path, "train.csv")
    assert proc.returncode == 0, proc.stderr
    assert spec["dataset"]["labels"] == {"format": "one_hot", "columns": ["toxic", "threat", "insult"]}
    assert "multi-label, 3 labels" in proc.stdout
    assert_clean(tmp_path)


def test_a_file_saved_by_excel_gets_its_encoding(tmp_path: Path):
    lines = ["text,label"] + [
        f"C'est très {w} numéro {i},{label}"
        for i in range(20)
        for w, label in (("bien", "pos"), ("mal", "nég"))
    ]
    (tmp_path / "cp.csv").write_bytes(("\n".join(lines) + "\n").encode("cp1252"))
    proc, spec, _ = init(tmp_path, "cp.csv")
    assert proc.returncode == 0, proc.stderr
    assert spec["dataset"]["reader"] == {"encoding": "cp1252"}
    assert (
        "reader: encoding cp1252 (line 2 is not UTF-8: byte 0xE8 there reads as 'è' in cp1252)" in proc.stdout
    )
    assert "2 labels: nég, pos" in proc.stdout
    assert_clean(tmp_path)
    (tmp_path / "spec.toml").unlink()
    tabbed = "\n".join(line.replace(",", "\t") for line in lines) + "\n"
    (tmp_path / "unicode.txt").write_bytes(tabbed.encode("utf-16"))
    proc, spec, _ = init(tmp_path, "unicode.txt")
    assert proc.returncode == 0, proc.stderr
    assert spec["dataset"]["reader"]["encoding"] == "utf16" and "2 labels: nég, pos" in proc.stdout
    assert_clean(tmp_path)


def test_a_workbook_whose_rows_are_on_its_second_sheet(tmp_path: Path):
    from tests.test_data import write_workbook

    rows = [["id", "review", "stars"]] + [
        [i, f"{'great' if i % 2 else 'poor'} product {i}", float(1 + i % 5)] for i in range(40)
    ]
    write_workbook(tmp_path / "reviews.xlsx", {"README": [["how we labelled"]], "Labelled": rows})
    proc, spec, _ = init(tmp_path, "reviews.xlsx")
    assert proc.returncode == 0, proc.stderr
    assert spec["dataset"]["reader"] == {"sheet": "Labelled"}
    assert "reader: sheet 'Labelled', the one with the most rows ('README' 0, 'Labelled' 40)" in proc.stdout
    assert spec["dataset"]["text_column"] == "review" and spec["dataset"]["labels"]["column"] == "stars"
    assert "5 labels: 1, 2, 3, 4, 5" in proc.stdout
    assert_clean(tmp_path)


def test_a_workbook_with_a_sheet_per_split_is_read_as_its_splits(tmp_path: Path):
    from tests.test_data import write_workbook

    def rows(split: str, n: int) -> list[list]:
        return [["review", "stars"]] + [
            [f"{split}: {'great' if i % 2 else 'poor'} product {i}", 1 + i % 2] for i in range(n)
        ]

    sheets = {"README": [["how we labelled"]], "Labelled": rows("train", 40), "test set": rows("test", 10)}
    write_workbook(tmp_path / "reviews.xlsx", sheets)
    proc, spec, _ = init(tmp_path, "reviews.xlsx")
    assert proc.returncode == 0, proc.stderr
    dataset = spec["dataset"]
    assert dataset["reader"] == {"sheet": {"train": "Labelled", "test": "test set"}}
    assert dataset["train"] == dataset["test"] == "reviews.xlsx" and dataset["validation_split"] == 0.2
    assert "one sheet per split: train 'Labelled' (40 rows), test 'test set' (10 rows)" in proc.stdout
    assert "rows: train 32, validation 8, test 10" in proc.stdout  # read as a run would
    write_workbook(
        tmp_path / "reviews.xlsx", {**sheets, "Training": rows("train", 40), "Dev": rows("dev", 8)}
    )
    (tmp_path / "spec.toml").unlink()
    proc, spec, _ = init(tmp_path, "reviews.xlsx")
    assert proc.returncode == 0, proc.stderr
    assert spec["dataset"]["reader"]["sheet"] == {
        "train": "Training",
        "validation": "Dev",
        "test": "test set",
    }
    assert "rows: train 40, validation 8, test 10" in proc.stdout
    assert_clean(tmp_path)


def test_nested_records_are_read_as_dotted_columns(tmp_path: Path):
    rows = [
        {
            "id": i,
            "content": {"title": f"t{i}", "body": f"{'love' if i % 2 else 'hate'} it, review number {i}"},
            "annotation": {"label": "pos" if i % 2 else "neg", "meta": {"annotator": "a1"}},
        }
        for i in range(40)
    ]
    write_jsonl(rows, tmp_path / "train.jsonl")
    proc, spec, _ = init(tmp_path, "train.jsonl")
    assert proc.returncode == 0, proc.stderr
    dataset = spec["dataset"]
    assert dataset["text_column"] == "content.body" and dataset["id_column"] == "id"
    assert dataset["labels"] == {"format": "single", "column": "annotation.label"}
    assert_clean(tmp_path)
    from peftspec.build.data import load_data
    from peftspec.spec import load_spec

    bundle = load_data(load_spec(tmp_path / "spec.toml").dataset)
    texts = {t for split in bundle.splits() for t in split.texts}
    assert texts == {row["content"]["body"] for row in rows}


def test_a_rare_class_of_two_makes_a_binary_task_with_a_tuned_threshold(tmp_path: Path):
    """Fraud detection: the rare class (sorted first here) becomes the positive one, so F1, the
    threshold and the report are about it; a balanced pair stays two classes scored alike."""
    rows = [
        ("wire to unknown account", "fraud") if i % 10 == 0 else ("grocery store", "legit")
        for i in range(100)
    ]
    lines = ["text,label"] + [f"transaction {i} {text},{label}" for i, (text, label) in enumerate(rows)]
    write_lines(tmp_path / "tx.csv", lines)
    proc, spec, _ = init(tmp_path, "tx.csv")
    assert proc.returncode == 0, proc.stderr
    dataset = spec["dataset"]
    assert dataset["task"] == "binary" and spec["metrics"] == {"threshold": "tuned"}
    assert dataset["labels"] == {"format": "single", "column": "label", "names": ["legit", "fraud"]}
    said = " ".join(proc.stdout.split())  # notes are wrapped to the terminal
    assert "task: binary, 'fraud' the positive class (10% of the rows)" in said
    assert "binary, 2 labels: legit, fraud" in proc.stdout
    assert_clean(tmp_path)
    (tmp_path / "spec.toml").unlink()
    flags = ["text,is_spam"] + [
        f"message {i} {'win a prize' if i % 5 == 0 else 'see you'},{int(i % 5 == 0)}" for i in range(100)
    ]
    write_lines(tmp_path / "flags.csv", flags)
    proc, spec, _ = init(tmp_path, "flags.csv")
    assert (
        spec["dataset"]["task"] == "binary" and "names" not in spec["dataset"]["labels"]
    )  # 1 stays positive
    assert "'1' the positive class (20% of the rows)" in " ".join(proc.stdout.split())
    (tmp_path / "spec.toml").unlink()
    balanced = ["text,label"] + [
        f"review {i} {'good' if i % 2 else 'bad'},{'pos' if i % 2 else 'neg'}" for i in range(100)
    ]
    write_lines(tmp_path / "reviews.csv", balanced)
    proc, spec, _ = init(tmp_path, "reviews.csv")
    assert "task" not in spec["dataset"] and "metrics" not in spec
    assert 'unless you set dataset.task = "binary"' in " ".join(proc.stdout.split())
    assert "which scores f1, precision and recall on 'pos'" in " ".join(proc.stdout.split())
    (tmp_path / "spec.toml").unlink()
    ratings = ["text,stars"] + [
        f"hotel {i} {'fine' if i % 2 else 'dirty'},{10 if i % 2 else 2}" for i in range(100)
    ]
    write_lines(tmp_path / "ratings.csv", ratings)
    proc, spec, _ = init(tmp_path, "ratings.csv")  # the run orders 2 before 10: 10 is the second class
    assert "which scores f1, precision and recall on '10'" in " ".join(proc.stdout.split())


def test_class_numbers_beside_their_names_label_the_run_with_the_names_in_the_numbers_order(tmp_path):
    """`label` 0, 1, 2 with `label_text` sadness, joy, anger (a common export of a Hub dataset):
    the names label the run, in the numbers' order; numbers beside an unrelated column stay numbers."""
    classes = ["sadness", "joy", "anger"]
    rows = [
        {"text": f"message {i} about {classes[i % 3]} today", "label": i % 3, "label_text": classes[i % 3]}
        for i in range(120)
    ]
    write_jsonl(rows, tmp_path / "emotion_train.jsonl")
    proc, spec, _ = init(tmp_path, "emotion_train.jsonl")
    assert proc.returncode == 0, proc.stderr
    assert spec["dataset"]["labels"] == {"format": "single", "column": "label_text", "names": classes}
    said = " ".join(proc.stdout.split())
    assert "'label' holds the same classes as numbers (0 sadness, 1 joy, 2 anger)" in said
    assert "multi-class, 3 labels: sadness, joy, anger" in said
    assert_clean(tmp_path)
    (tmp_path / "spec.toml").unlink()
    unrelated = [
        {**r, "label_text": "web" if i % 2 else "app"} for i, r in enumerate(rows)
    ]  # not one a number
    write_jsonl(unrelated, tmp_path / "other_train.jsonl")
    proc, spec, _ = init(tmp_path, "other_train.jsonl")
    assert spec["dataset"]["labels"] == {"format": "single", "column": "label"}


def label_studio_task(i: int, text: str, results: list[dict], **annotation) -> dict:
    """One task of Label Studio's JSON export, annotated with `results` (none: no annotation)."""
    annotations = [
        {"id": 1000 + i, "completed_by": 1, "result": results, "was_cancelled": False, **annotation}
    ]
    return {
        "id": i + 1,
        "data": {"text": text, "source": "forum"},
        "annotations": annotations if results else [],
        "predictions": [],
        "meta": {},
        "file_upload": "upload.csv",
    }


def choices(control: str, *chosen: str) -> dict:
    return {"value": {"choices": list(chosen)}, "from_name": control, "to_name": "text", "type": "choices"}


def test_a_label_studio_export_is_read_as_its_tasks_and_their_choices(tmp_path: Path):
    """Label Studio's default JSON export: a task a row, `data.text` the text, each control a
    label column: a single-choice control a class a row, a multi-choice one a list (multi-label),
    a rating its stars. Before, init took the list of annotation records for the labels."""
    import json

    rows = synthetic_rows(60, seed=3)
    tasks = [
        label_studio_task(
            i,
            row["text"],
            [
                choices("sentiment", "positive" if i % 3 else "negative"),
                choices("emotions", *[e for e in EMOTIONS if row[e] == 1]),
                {"value": {"rating": 1 + i % 5}, "from_name": "stars", "to_name": "text", "type": "rating"},
                {"value": {"start": 0, "end": 4, "labels": ["PER"]}, "from_name": "ner", "type": "labels"},
            ],
        )
        for i, row in enumerate(rows)
    ]
    (tmp_path / "project.json").write_text(json.dumps(tasks))
    proc, spec, _ = init(tmp_path, "project.json")
    assert proc.returncode == 0, proc.stderr
    dataset = spec["dataset"]
    assert dataset["text_column"] == "data.text" and dataset["id_column"] == "id"
    assert dataset["labels"] == {"format": "delimited", "column": "emotions"}  # the multi-label control
    assert "reader: Label Studio's export" in proc.stdout
    assert "also label-like: 'sentiment', 'stars' (dataset.labels.column = the one to learn" in proc.stdout
    assert f"multi-label, {len(EMOTIONS)} labels" in proc.stdout
    assert_clean(tmp_path)
    from peftspec.build.data import load_data
    from peftspec.spec import load_spec

    for labels, names in (
        ('{ format = "single", column = "sentiment" }', ["negative", "positive"]),
        ('{ format = "single", column = "stars" }', ["1", "2", "3", "4", "5"]),
    ):
        (tmp_path / "single.toml").write_text(
            f'name = "ls"\n[backbone]\nmodel = "m"\n[dataset]\ntrain = "project.json"\n'
            f'text_column = "data.text"\nlabels = {labels}\n'
        )
        assert load_data(load_spec(tmp_path / "single.toml").dataset).label_names == names


def test_label_studio_annotations_ground_truth_first_cancelled_never(write_spec, tmp_path: Path):
    import json

    from peftspec.build.label_studio import task_rows

    task = label_studio_task(0, "one", [choices("topic", "sport")])
    task["annotations"] = [
        {"result": [choices("topic", "music")], "was_cancelled": True},
        {"result": [choices("topic", "sport")]},
        {"result": [choices("topic", "news")], "ground_truth": True},
    ]
    cancelled = label_studio_task(1, "two", [choices("topic", "news")], was_cancelled=True)
    rows = task_rows([task, cancelled, label_studio_task(2, "three", [choices("topic", "sport")])])
    assert [r.get("topic") for r in rows] == ["news", None, "sport"]
    tasks = [
        label_studio_task(i, f"text {i}", [choices("topic", ["sport", "news"][i % 2])]) for i in range(12)
    ]
    tasks[4]["annotations"] = []  # exported before anyone labelled it
    (tmp_path / "tasks.json").write_text(json.dumps(tasks))
    from peftspec.build.data import load_data
    from peftspec.build.problems import DataError
    from peftspec.spec import load_spec

    spec = write_spec(
        'name = "ls"\n[backbone]\nmodel = "m"\n[dataset]\ntrain = "tasks.json"\n'
        'text_column = "data.text"\nlabels = { format = "single", column = "topic" }\n'
    )
    with pytest.raises(DataError) as info:
        load_data(load_spec(spec).dataset)
    (problem,) = info.value.errors
    assert problem.row == 5 and problem.column == "topic" and "no label" in problem.message


def test_a_label_studio_export_is_parsed_once_while_it_is_unchanged(tmp_path: Path):
    """init notes an export and then reads it, predict labels its tasks and writes them back: one
    parse; a file changed since (another export saved over it) is parsed again."""
    import json

    from peftspec.build.json_files import label_studio_tasks

    path = tmp_path / "tasks.json"
    path.write_text(
        json.dumps([label_studio_task(i, f"text {i}", [choices("topic", "a")]) for i in range(3)])
    )
    first = label_studio_tasks(str(path))
    assert first is label_studio_tasks(str(path)) and len(first) == 3
    path.write_text(json.dumps([label_studio_task(i, f"new {i}", [choices("topic", "b")]) for i in range(4)]))
    again = label_studio_tasks(str(path))
    assert [t["data"]["text"] for t in again] == [f"new {i}" for i in range(4)]


def test_a_column_of_records_is_never_taken_for_labels(tmp_path: Path):
    import json

    rows = [
        {"text": f"some text number {i} here", "votes": [{"label": "pos", "by": i % 3}]} for i in range(40)
    ]
    (tmp_path / "train.json").write_text(json.dumps(rows))
    proc, spec, _ = init(tmp_path, "train.json")
    assert proc.returncode == 1 and not spec  # before: 40 "labels", each a record written out
    assert "'votes' holds lists of records, which are not labels" in proc.stderr


def test_a_broken_file_that_looks_like_a_label_studio_export_is_refused_where_it_breaks(tmp_path: Path):
    (tmp_path / "tasks.json").write_text('[{"annotations": [], "data": {"text": "x"}}, {broken')
    proc, _, _ = init(tmp_path, "tasks.json")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr  # before: json's own traceback
    assert "tasks.json: cannot read as json" in proc.stderr and "character 46" in proc.stderr


def test_a_run_trained_on_a_label_studio_export_preannotates_the_next_tasks(tmp_path: Path):
    """The annotation loop: train on the export, then `predict` the next (unlabelled) export to
    `.json`: the same tasks, each with the run's prediction in Label Studio's own shape."""
    import json

    from tests.helpers.tiny import make_backbone

    make_backbone("bert", tmp_path / "bert")
    rows = synthetic_rows(96, seed=3)
    mood = [("happy" if row["joy"] else "other") for row in rows]
    labelled = [
        label_studio_task(i, row["text"], [choices("mood", m)]) for i, (row, m) in enumerate(zip(rows, mood))
    ]
    (tmp_path / "project.json").write_text(json.dumps(labelled))
    (tmp_path / "spec.toml").write_text(
        'name = "moods"\n[dataset]\ntrain = "project.json"\ntext_column = "data.text"\nid_column = "id"\n'
        'labels = { format = "single", column = "mood" }\nmax_length = 24\n[backbone]\nmodel = "./bert"\n'
        '[adapter]\nkind = "lora"\nr = 4\ntarget_modules = ["query", "value"]\n'
        "[trainer]\nepochs = 1\nbatch_size = 16\nlearning_rate = 5e-3\n"
    )
    assert (trained := peftspec(tmp_path, "run", "spec.toml")).returncode == 0, trained.stderr
    (run,) = (tmp_path / "runs").iterdir()
    following = [
        label_studio_task(100 + i, row["text"], []) for i, row in enumerate(synthetic_rows(8, seed=4))
    ]
    following[2]["data"]["text"] = " "
    (tmp_path / "next.json").write_text(json.dumps(following))
    proc = peftspec(tmp_path, "predict", str(run), "next.json", "-o", "preannotated.json")
    assert proc.returncode == 0, proc.stderr
    flat = peftspec(tmp_path, "predict", str(run), "next.json", "-o", "flat.jsonl")
    expected = [json.loads(line) for line in (tmp_path / "flat.jsonl").read_text().splitlines()]
    written = json.loads((tmp_path / "preannotated.json").read_text())
    assert flat.returncode == 0 and [t["id"] for t in written] == [t["id"] for t in following]
    assert [t["data"] for t in written] == [t["data"] for t in following]  # the tasks, as they were
    assert written[2]["predictions"] == []  # an empty text is not labelled
    for task, row in zip(written, expected, strict=True):
        if row["predicted"] is None:
            continue
        (prediction,) = task["predictions"]
        assert prediction["model_version"] == run.name
        assert prediction["result"] == [
            {
                "from_name": "mood",
                "to_name": "text",
                "type": "choices",
                "value": {"choices": [row["predicted"]]},
            }
        ]
        assert prediction["score"] == pytest.approx(row[f"score_{row['predicted']}"], abs=1e-6)


def test_a_preannotation_takes_the_controls_type_and_scores_the_least_sure_decision():
    from types import SimpleNamespace

    import polars as pl

    from peftspec.errors import UsageError
    from peftspec.inference.label_studio import preannotated

    def loaded(task: str, labels) -> SimpleNamespace:
        dataset = SimpleNamespace(labels=labels)
        return SimpleNamespace(
            spec=SimpleNamespace(dataset=dataset),
            label_names=["a", "b", "c"],
            task=task,
            run=SimpleNamespace(name="run-1"),
        )

    frame = pl.DataFrame({"predicted": [["a", "c"]], "score_a": [0.9], "score_b": [0.3], "score_c": [0.6]})
    task = label_studio_task(0, "t", [choices("tags", "a")])
    (written,) = preannotated(
        [task], frame, loaded("multi_label", SimpleNamespace(column="tags")), "data.text"
    )
    (prediction,) = written["predictions"]
    assert prediction["score"] == pytest.approx(0.6)  # a: 0.9, b left out: 0.7, c: 0.6
    assert prediction["result"][0]["value"] == {"choices": ["a", "c"]}
    stars = {"value": {"rating": 4}, "from_name": "stars", "to_name": "review", "type": "rating"}
    frame = pl.DataFrame({"predicted": ["3"], "score_a": [0.1], "score_b": [0.2], "score_c": [0.7]})
    names = loaded("multi_class", SimpleNamespace(column="stars"))
    names.label_names = ["1", "2", "3"]
    frame = frame.rename({"score_a": "score_1", "score_b": "score_2", "score_c": "score_3"})
    (written,) = preannotated([label_studio_task(1, "t", [stars])], frame, names, "data.text")
    assert written["predictions"][0]["result"] == [
        {"from_name": "stars", "to_name": "review", "type": "rating", "value": {"rating": 3}}
    ]
    with pytest.raises(UsageError, match="one-hot label columns"):
        preannotated([task], frame, loaded("multi_label", SimpleNamespace(columns=["a", "b"])), "data.text")


def test_a_column_naming_each_rows_split_divides_the_file(tmp_path: Path):
    """One file with a `split` column (train rows first, the rest at the end, past the rows that
    are sampled for guessing): its splits, not a label column of three classes."""
    rows = synthetic_rows(6000, seed=5)
    for i, row in enumerate(rows):
        row["partition"] = "train" if i < 5400 else ("dev" if i < 5700 else "test")
        row["label"] = ["joy", "anger"][i % 2]
        for emotion in EMOTIONS:
            row.pop(emotion, None)
    write_csv(rows, tmp_path / "corpus.csv")
    proc, spec, _ = init(tmp_path, "corpus.csv")
    assert proc.returncode == 0, proc.stderr
    dataset = spec["dataset"]
    assert dataset["split_column"] == "partition" and dataset["labels"]["column"] == "label"
    assert "validation" not in dataset and "validation_split" not in dataset
    assert "splits: the column 'partition' says each row's split (dev, test, train)" in proc.stdout
    assert "rows: train 5,400, validation 300, test 300" in proc.stdout and "--folds" not in proc.stdout
    assert_clean(tmp_path)


def test_a_title_above_the_table_is_skipped_and_said(tmp_path: Path):
    """A report-style export: a title and a blank line above the header. init finds the header and
    writes the skip_rows that reads the table (before: the title was the only named column)."""
    rows = synthetic_rows(80, seed=4, multi_label=False)
    lines = ["id,text,label", *(f"{r['id']},{r['text']},{r['label']}" for r in rows)]
    (tmp_path / "train.csv").write_text("Emotion annotations - batch 2,,\n\n" + "\n".join(lines) + "\n")
    proc, spec, _ = init(tmp_path, "train.csv")
    assert proc.returncode == 0, proc.stderr
    dataset = spec["dataset"]
    assert dataset["reader"]["skip_rows"] == 2 and dataset["text_column"] == "text"
    assert dataset["labels"] == {"format": "single", "column": "label"}
    said = " ".join(proc.stdout.split())
    assert (
        "reader: the table's header is line 3, below a title or notes ('Emotion annotations - batch 2')"
        in said
    )
