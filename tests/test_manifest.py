"""glasses.manifest: a manifest loads as training wrote it, and every unsafe or ambiguous row is refused at once."""
from __future__ import annotations

import math
import os

import pytest

from glasses.manifest import MAX_LISTED, ManifestError, load_manifest, write_manifest
from tests.conftest import DATA, needs_data
from tests.relabel_fixtures import COLUMNS, data_folder, manifest_rows, write_csv


@pytest.fixture
def data(tmp_path):
    return data_folder(tmp_path, 6)


def test_loads_rows_labels_and_pred_prob(tmp_path, data):
    path = write_csv(tmp_path / "m.csv", manifest_rows([0, 1, 0], pred_prob=[0.1, None, "0.9"]))
    manifest = load_manifest(path, data)
    assert manifest.labels == [0, 1, 0]
    assert manifest.pred_prob[0] == 0.1 and math.isnan(manifest.pred_prob[1]) and manifest.pred_prob[2] == 0.9
    assert manifest.rows[0]["group"] == "person0"
    assert manifest.image_path(manifest.rows[2]) == data / "imgs/img02.png"


def test_without_pred_prob_column_says_so(tmp_path, data):
    manifest = load_manifest(write_csv(tmp_path / "m.csv", manifest_rows([0, 1])), data)
    assert manifest.pred_prob is None


def test_every_bad_row_is_named_in_one_error(tmp_path, data):
    outside = tmp_path / "secret.png"
    outside.write_bytes(b"x")
    (data / "imgs" / "link.png").symlink_to(outside)
    rows = manifest_rows([0, 1, 0, 1, 0, 1], pred_prob=[0.5] * 6)
    rows += [dict(rows[0], path="../secret.png"),                 # escapes by ..
             dict(rows[0], path=str(outside)),                    # absolute
             dict(rows[0], path="imgs/link.png"),                 # symlink pointing out
             dict(rows[0], path="imgs/missing.png"),
             dict(rows[1], path="imgs/./img01.png"),              # the same image as row 2, spelt otherwise
             dict(rows[2], label="yes"),
             dict(rows[3], label=""),
             dict(rows[4], split="tset"),
             dict(rows[5], pred_prob="1.7"),
             dict(rows[5], path="")]
    rows[2]["path"] = "imgs/img05.png"                            # then row 12 repeats it too
    path = write_csv(tmp_path / "bad.csv", rows)
    with pytest.raises(ManifestError) as caught:
        load_manifest(path, data)
    message = str(caught.value)
    assert message.startswith(f"{path}: 11 row(s) cannot be used")
    for expected in ("line 8: ../secret.png: the path leads out of the data folder",
                     f"line 9: {outside}: the path leads out of the data folder",
                     "line 10: imgs/link.png: the path leads out of the data folder",
                     "line 11: imgs/missing.png: file not found",
                     "line 12: imgs/./img01.png: the same image as line 3",
                     "label 'yes' is not 0 or 1 (1: the attribute shows, e.g. glasses worn)",
                     "line 14: imgs/img03.png: label '' is not 0",
                     "split 'tset' is not one of test, train, val",
                     "line 16: imgs/img05.png: the same image as line 4",
                     "line 17: (empty path): the path is empty"):
        assert expected in message, expected


def test_a_bad_pred_prob_is_named(tmp_path, data):
    path = write_csv(tmp_path / "m.csv", manifest_rows([0, 1], pred_prob=["0.2", "high"]))
    with pytest.raises(ManifestError, match="line 3: imgs/img01.png: pred_prob 'high' is not a probability"):
        load_manifest(path, data)


def test_long_lists_are_cut_with_a_count(tmp_path, data):
    rows = [dict(manifest_rows([0])[0], path=f"imgs/gone{i}.png") for i in range(MAX_LISTED + 5)]
    with pytest.raises(ManifestError) as caught:
        load_manifest(write_csv(tmp_path / "m.csv", rows), data)
    assert str(caught.value).count("file not found") == MAX_LISTED
    assert str(caught.value).endswith("... and 5 more")


@pytest.mark.parametrize("content, reason", [
    (None, "file not found"),
    (b"", "lacks the column(s) path, label, source, group, split"),
    (b"path,label\nimgs/img00.png,0\n", "lacks the column(s) source, group, split"),
    (",".join(COLUMNS).encode() + b"\n", "has no rows"),
    (b"\xff\xfe\x00binary\x00", "cannot be read as a CSV"),
])
def test_unreadable_manifests_are_refused_with_the_reason(tmp_path, data, content, reason):
    path = tmp_path / "m.csv"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ManifestError, match=f"^{path}: .*{reason.replace('(', '.').replace(')', '.')}"):
        load_manifest(path, data)


def test_a_row_longer_than_the_header_is_refused(tmp_path, data):
    path = tmp_path / "m.csv"
    path.write_text(",".join(COLUMNS) + "\nimgs/img00.png,0,olivetti,p,train,surprise\n")
    with pytest.raises(ManifestError, match="more values than the header"):
        load_manifest(path, data)


def test_a_nul_byte_or_a_symlink_loop_is_a_row_error_naming_the_line(tmp_path, data):
    (data / "imgs" / "loop.png").symlink_to(data / "imgs" / "loop.png")
    path = write_csv(tmp_path / "m.csv", [*manifest_rows([0]), dict(manifest_rows([0])[0], path="imgs/img00\0.png"),
                                          dict(manifest_rows([0])[0], path="imgs/loop.png")])
    with pytest.raises(ManifestError) as caught:
        load_manifest(path, data)
    assert "line 3: imgs/img00\0.png: a value holds a NUL byte" in str(caught.value)
    assert "line 4: imgs/loop.png: the path cannot be followed (Symlink loop" in str(caught.value)


def test_a_header_naming_a_column_twice_is_refused(tmp_path, data):
    path = tmp_path / "m.csv"
    path.write_text("path,label,source,group,split,label\nimgs/img00.png,0,olivetti,p,train,1\n")
    with pytest.raises(ManifestError, match=f"^{path}: the header names the column.s. 'label' more than once"):
        load_manifest(path, data)


def test_excels_byte_order_mark_is_read_past(tmp_path, data):
    """Excel's "CSV UTF-8" starts the file with a BOM; relabel and training (which reads through
    load_manifest) read the file as it is."""
    path = tmp_path / "m.csv"
    path.write_bytes(write_csv(tmp_path / "plain.csv", manifest_rows([0, 1])).read_text().encode("utf-8-sig"))
    assert load_manifest(path, data).labels == [0, 1]


def test_a_missing_data_folder_is_named(tmp_path):
    path = write_csv(tmp_path / "m.csv", manifest_rows([0]))
    with pytest.raises(ManifestError, match="the data folder .*nowhere does not exist"):
        load_manifest(path, tmp_path / "nowhere")


def test_relative_data_folder_is_resolved_from_the_working_directory(tmp_path, data, monkeypatch):
    path = write_csv(tmp_path / "m.csv", manifest_rows([0, 1]))
    monkeypatch.chdir(tmp_path)
    assert load_manifest(os.path.relpath(path), "data").image_path({"path": "imgs/img01.png"}).is_file()


@needs_data
def test_the_importers_manifest_of_the_real_data_loads(tmp_path):
    from training.sources import build_manifest
    rows = build_manifest(DATA, ("olivetti", "yalefaces"))
    write_manifest(rows, tmp_path / "real.csv")
    manifest = load_manifest(tmp_path / "real.csv", DATA)
    assert len(manifest.rows) == len(rows) and manifest.labels == [row["label"] for row in rows]
