"""relabel.export: the corrected manifest applies exactly what the reviewers agreed on, and training reads it."""
from __future__ import annotations

import pytest

from glasses.manifest import load_manifest
from relabel.export import ExportError, corrected_manifest, held_out_path, write_corrected
from relabel.store import FLIP, KEEP, NO_FACE, SKIP, UNSURE, NewDecision, ReviewStore
from tests.relabel_fixtures import data_folder, manifest_rows, read_csv, write_csv


@pytest.fixture
def manifest(tmp_path):
    data = data_folder(tmp_path, 8)
    rows = manifest_rows([0, 1, 0, 1, 0, 1, 0, 1], pred_prob=[0.91, 0.2, 0.5, 0.88, 0.1, 0.9, 0.6, 0.7])
    return load_manifest(write_csv(tmp_path / "m.csv", rows, ["split", "path", "pred_prob", "label", "source",
                                                                "group"]), data)


def decide(store, image, reviewer, kind, old):
    store.record(NewDecision(f"imgs/img{image:02d}.png", reviewer, kind, old))


@pytest.fixture
def corrected(tmp_path, manifest):
    store = ReviewStore(tmp_path / "reviews.sqlite")
    decide(store, 0, "ana", FLIP, 0)                              # flipped
    decide(store, 1, "ana", KEEP, 1)                              # kept
    decide(store, 2, "ana", NO_FACE, 0)                           # dropped
    decide(store, 3, "ana", UNSURE, 1)                            # held out
    decide(store, 4, "ana", FLIP, 0)
    decide(store, 4, "ben", KEEP, 0)                              # disputed: held out
    decide(store, 5, "ana", FLIP, 1)
    decide(store, 5, "ben", FLIP, 1)                              # agreed flip
    decide(store, 6, "ana", SKIP, 0)                              # a skip changes nothing
    decide(store, 7, "ana", FLIP, 1)
    store.undo_last("ana")                                        # undone: changes nothing
    store.record(NewDecision("elsewhere/other.png", "ana", FLIP, 0))
    return corrected_manifest(manifest, store.current())


def test_decisions_are_applied_by_the_rule(corrected):
    labels = {row["path"][-9:-4]: row["label"] for row in corrected.rows}
    assert labels == {"img00": 1, "img01": 1, "img05": 0, "img06": 0, "img07": 1}
    assert {row["path"][-9:-4]: (row["reason"], row["decisions"]) for row in corrected.held_out} == {
        "img02": ("no_face", "ana=no_face"), "img03": ("unsure", "ana=unsure"), "img04": ("disputed", "ana=1; ben=0")}
    assert corrected.counts == {"rows": 8, "written": 5, "flipped": 2, "kept": 1, "no_face": 1, "unsure": 1,
                                "disputed": 1, "unreviewed": 2, "decided_images_not_in_manifest": 1}


def test_the_files_keep_every_other_value_and_training_reads_them(tmp_path, manifest, corrected):
    out = tmp_path / "out" / "corrected.csv"
    out.parent.mkdir()
    assert write_corrected(corrected, out) == held_out_path(out) == out.parent / "corrected.held_out.csv"
    written = read_csv(out)
    assert list(written[0]) == ["split", "path", "pred_prob", "label", "source", "group"]  # the manifest's order
    assert written[0] == {"split": "train", "path": "imgs/img00.png", "pred_prob": "0.91", "label": "1",
                          "source": "olivetti", "group": "person0"}
    assert load_manifest(out, manifest.data_root).labels == [1, 1, 0, 0, 1]   # as training reads it
    held = read_csv(held_out_path(out))
    assert [row["reason"] for row in held] == ["no_face", "unsure", "disputed"] and held[0]["pred_prob"] == "0.5"
    assert sorted(p.name for p in out.parent.iterdir()) == ["corrected.csv", "corrected.held_out.csv"]


def test_exporting_the_export_with_the_same_decisions_changes_nothing(tmp_path, manifest, corrected):
    """Labels, not keep/flip, are compared: the decisions still agree with a manifest already corrected."""
    out = tmp_path / "corrected.csv"
    write_corrected(corrected, out)
    again = corrected_manifest(load_manifest(out, manifest.data_root),
                               ReviewStore(tmp_path / "reviews.sqlite").current())
    assert [row["label"] for row in again.rows] == [int(row["label"]) for row in read_csv(out)]
    assert again.counts["flipped"] == 0 and again.counts["kept"] == 3


def test_a_held_out_list_is_written_even_when_empty(tmp_path, manifest):
    out = tmp_path / "c.csv"
    write_corrected(corrected_manifest(manifest, {}), out)
    assert held_out_path(out).read_text().splitlines() == ["split,path,pred_prob,label,source,group,reason,decisions"]
    assert read_csv(out) == read_csv(manifest.path)


def test_a_failed_write_leaves_neither_a_partial_nor_a_changed_file(tmp_path, manifest, corrected, monkeypatch):
    out = tmp_path / "c.csv"
    out.write_text("the previous export\n")

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr("relabel.export.os.replace", full_disk)
    with pytest.raises(ExportError, match="No space left on device"):
        write_corrected(corrected, out)
    assert out.read_text() == "the previous export\n"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_when_the_list_cannot_be_written_the_manifest_is_not_replaced(tmp_path, corrected):
    out = tmp_path / "c.csv"
    out.write_text("the previous export\n")
    held_out_path(out).mkdir()                                    # a folder where the list goes
    with pytest.raises(ExportError, match=f"^{held_out_path(out)}: cannot be written"):
        write_corrected(corrected, out)
    assert out.read_text() == "the previous export\n"
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("had_list", [True, False])
def test_when_the_manifest_cannot_be_replaced_the_list_is_put_back(tmp_path, corrected, had_list):
    out = tmp_path / "c.csv"
    out.mkdir()                                                   # the list can be written, the manifest not
    if had_list:
        held_out_path(out).write_text("the previous list\n")
    with pytest.raises(ExportError, match=f"^{out}: cannot be written"):
        write_corrected(corrected, out)
    if had_list:
        assert held_out_path(out).read_text() == "the previous list\n"
    else:
        assert not held_out_path(out).exists()
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_two_exports_at_once_to_the_same_file_both_finish_whole(tmp_path, manifest, corrected, monkeypatch):
    """A second export that starts while the first is writing (two people, one output) must not write into or
    delete the first's unfinished files: both succeed, and the pair left is one export's, whole."""
    import relabel.export as export
    write_csv_once, out, plain = export._write_csv, tmp_path / "c.csv", corrected_manifest(manifest, {})

    def second_export_meanwhile(path, rows, columns):
        write_csv_once(path, rows, columns)
        monkeypatch.setattr(export, "_write_csv", write_csv_once)
        write_corrected(plain, out)
    monkeypatch.setattr(export, "_write_csv", second_export_meanwhile)
    write_corrected(corrected, out)
    assert [(row["path"], row["label"]) for row in read_csv(out)] == \
        [(row["path"], str(row["label"])) for row in corrected.rows]
    assert len(read_csv(held_out_path(out))) == len(corrected.held_out)
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_an_output_folder_that_does_not_exist_is_named(tmp_path, corrected):
    out = tmp_path / "no such folder" / "c.csv"
    with pytest.raises(ExportError, match=f"^{out}: cannot be written"):
        write_corrected(corrected, out)


def test_the_export_gets_the_permissions_of_any_new_file(tmp_path, corrected):
    """Whoever runs training (another user, a CI job) can read it as they could any file written there."""
    out = tmp_path / "c.csv"
    write_corrected(corrected, out)
    (tmp_path / "plain.csv").write_text("")
    expected = (tmp_path / "plain.csv").stat().st_mode
    assert out.stat().st_mode == held_out_path(out).stat().st_mode == expected
