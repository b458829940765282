import tomllib

from peftspec.spec.toml_positions import scan_positions

DOC = '''\
# comment
name = "x" # trailing
[dataset]
train = ["a", # inside
   "b"]
labels.columns = ["a"]
"quoted key".x = 'lit'
s = """multi
line "" """
inl = { a = 1, b = [1, {c = 2}] }
[[runs]]
z = 1
[[runs]]
z = 2
'''


def test_scanner_agrees_with_tomllib_and_locates_everything():
    data = tomllib.loads(DOC)
    pos = scan_positions(DOC)
    assert data["dataset"]["quoted key"]["x"] == "lit"
    assert pos.keys[("name",)] == (2, 1) and pos.values[("name",)] == (2, 8)
    assert pos.keys[("dataset",)] == (3, 1)
    assert pos.values[("dataset", "train", 1)] == (5, 4)
    assert pos.keys[("dataset", "labels", "columns")] == (6, 1)
    assert pos.values[("dataset", "labels", "columns", 0)] == (6, 19)
    assert pos.values[("dataset", "quoted key", "x")] == (7, 18)
    assert pos.values[("dataset", "s")] == (8, 5)
    assert pos.values[("dataset", "inl", "b", 1, "c")] == (10, 29)
    assert pos.values[("runs", 1, "z")] == (14, 5)


def test_escaped_quotes_in_strings():
    doc = 'a = "he said \\"hi\\""\nb = 2\n'
    assert scan_positions(doc).values[("b",)] == (2, 5)
