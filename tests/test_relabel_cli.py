"""`python -m relabel suspects | export | import`, in-process and as a real command."""
from __future__ import annotations

import contextlib
import csv
import io
import json
import sqlite3
import subprocess
import sys

import pytest

from relabel.cli import main
from relabel.store import FLIP, SCHEMA_VERSION, NewDecision, ReviewStore
from tests.conftest import REPO
from tests.relabel_fixtures import data_folder, manifest_rows, read_csv, write_csv


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in argv])
        except SystemExit as exit_:  # argparse's usage errors
            code = exit_.code
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def files(tmp_path):
    data = data_folder(tmp_path, 5)
    manifest = write_csv(tmp_path / "m.csv", manifest_rows([0, 1, 0, 1, 0], [0.99, 0.03, 0.3, None, 0.5]))
    return tmp_path, data, manifest


def test_suspects_prints_the_ranking_as_csv_and_names_its_probabilities(files):
    tmp_path, data, manifest = files
    code, out, err = run(["suspects", manifest, "--data", data])
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == ["path", "label", "pred_prob", "score"]
    assert [r["path"] for r in rows[:2]] == ["imgs/img00.png", "imgs/img01.png"]
    assert rows[-1] == {"path": "imgs/img03.png", "label": "1", "pred_prob": "", "score": ""}
    assert float(rows[0]["score"]) < float(rows[2]["score"]) < float(rows[3]["score"])
    assert err.strip() == "ranked with the out-of-fold pred_prob column of m.csv"


def test_suspects_top_and_table(files):
    tmp_path, data, manifest = files
    code, out, _ = run(["suspects", manifest, "--data", data, "--top", "2", "--format", "table"])
    lines = out.splitlines()
    assert code == 0 and len(lines) == 3
    assert lines[0].split() == ["path", "label", "pred_prob", "score"]
    assert lines[1].split()[:3] == ["imgs/img00.png", "0", "0.99"]


def test_export_writes_the_corrected_manifest_and_the_counts(files):
    tmp_path, data, manifest = files
    store = ReviewStore(tmp_path / "r.sqlite")
    store.record(NewDecision("imgs/img00.png", "ana", FLIP, 0))
    code, out, err = run(["export", manifest, "--data", data, "--db", store.path, "--out", tmp_path / "c.csv"])
    assert code == 0, err
    summary = json.loads(out)
    assert (summary["flipped"], summary["written"], summary["held_out"]) == (1, 5, str(tmp_path / "c.held_out.csv"))
    assert [row["label"] for row in read_csv(tmp_path / "c.csv")] == ["1", "1", "0", "1", "0"]


def test_import_merges_and_a_repeat_records_nothing(files):
    tmp_path, data, manifest = files
    db = tmp_path / "r.sqlite"
    ReviewStore(db).record(NewDecision("imgs/img01.png", "ana", FLIP, 1))
    decisions = write_csv(tmp_path / "d.csv", [{"path": "imgs/img00.png", "label": "1", "reviewer": "cat"},
                                               {"path": "imgs/img01.png", "label": "1", "reviewer": "cat"},
                                               {"path": "imgs/img02.png", "label": "no_face", "reviewer": "cat"}])
    assert json.loads(run(["import", manifest, decisions, "--data", data, "--db", db])[1])["recorded"] == 3
    assert json.loads(run(["import", manifest, decisions, "--data", data, "--db", db])[1]) == \
        {"db": str(db), "recorded": 0, "repeated": 3}
    history = ReviewStore(db).history()
    assert [(r["path"][-9:-4], r["reviewer"], r["kind"], r["origin"]) for r in history] == [
        ("img01", "ana", "flip", "app"), ("img00", "cat", "flip", "import d.csv"),
        ("img01", "cat", "keep", "import d.csv"), ("img02", "cat", "no_face", "import d.csv")]
    code, out, _ = run(["export", manifest, "--data", data, "--db", db, "--out", tmp_path / "c.csv"])
    assert json.loads(out)["disputed"] == 1                       # ana flipped img01, cat kept it: both stand
    assert [row["reason"] for row in read_csv(tmp_path / "c.held_out.csv")] == ["disputed", "no_face"]


def test_a_bad_decisions_file_imports_nothing_and_names_every_row(files):
    tmp_path, data, manifest = files
    db = tmp_path / "r.sqlite"
    decisions = write_csv(tmp_path / "d.csv", [{"path": "imgs/img00.png", "label": "1", "reviewer": "cat"},
                                               {"path": "imgs/nope.png", "label": "1", "reviewer": "cat"},
                                               {"path": "imgs/img01.png", "label": "yes", "reviewer": "cat"},
                                               {"path": "imgs/img02.png", "label": "0", "reviewer": ""},
                                               {"path": "imgs/img00.png", "label": "0", "reviewer": "cat"}])
    code, out, err = run(["import", manifest, decisions, "--data", data, "--db", db])
    assert code == 1 and out == ""
    assert f"{decisions}: 4 row(s) cannot be imported (nothing was imported)" in err
    for expected in (f"line 3: imgs/nope.png is not in the manifest {manifest}", "line 4: label 'yes' is not one of",
                     "line 5: a reviewer name is needed", "line 6: cat decided imgs/img00.png already on line 2"):
        assert expected in err, expected
    assert ReviewStore(db).history() == []


@pytest.mark.parametrize("command", ["suspects", "export", "import"])
def test_a_bad_manifest_is_refused_with_its_reason(files, command):
    tmp_path, data, _ = files
    bad = write_csv(tmp_path / "bad.csv", [dict(manifest_rows([0])[0], path="../../etc/passwd")])
    extra = {"suspects": [], "export": ["--db", tmp_path / "r.sqlite", "--out", tmp_path / "c.csv"],
             "import": [tmp_path / "d.csv", "--db", tmp_path / "r.sqlite"]}[command]
    code, out, err = run([command, bad, "--data", data, *extra])
    assert (code, out) == (1, "")
    assert err.startswith(f"relabel {command}: {bad}: 1 row(s) cannot be used")
    assert "line 2: ../../etc/passwd: the path leads out of the data folder" in err
    assert not (tmp_path / "c.csv").exists() and not (tmp_path / "r.sqlite").exists()


def test_export_refuses_a_missing_or_newer_database_and_overwriting_its_manifest(files):
    tmp_path, data, manifest = files
    out = tmp_path / "c.csv"
    code, _, err = run(["export", manifest, "--data", data, "--db", tmp_path / "typo.sqlite", "--out", out])
    assert code == 1 and "typo.sqlite: no review database there" in err
    newer = tmp_path / "newer.sqlite"
    sqlite3.connect(newer).execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}").connection.commit()
    code, _, err = run(["export", manifest, "--data", data, "--db", newer, "--out", tmp_path / "c.csv"])
    assert code == 1 and "was written by a newer version of relabel" in err
    assert not (tmp_path / "c.csv").exists()


@pytest.mark.parametrize("out, db, clash", [
    ("m.csv", "r.sqlite", "--out {out} would overwrite the manifest it reads"),
    ("r.sqlite", "r.sqlite", "--out {out} would overwrite the review database"),
    ("r.sqlite-wal", "r.sqlite", "--out {out} would overwrite the review database"),
    ("./sub/../r.sqlite-shm", "r.sqlite", "--out {out} would overwrite the review database"),
    ("r.sqlite", "r.held_out.sqlite", "--out's held-out list {held} would overwrite the review database"),
])
def test_export_refuses_to_overwrite_its_manifest_or_database_and_writes_nothing(files, out, db, clash):
    tmp_path, data, manifest = files
    (tmp_path / "sub").mkdir()
    store = ReviewStore(tmp_path / db)
    store.record(NewDecision("imgs/img00.png", "ana", FLIP, 0))
    for wal in ("-wal", "-shm"):
        (tmp_path / f"{db}{wal}").write_bytes(b"wal")
    out = tmp_path / out
    before = {path: path.read_bytes() for path in tmp_path.iterdir() if path.is_file()}
    code, stdout, err = run(["export", manifest, "--data", data, "--db", store.path, "--out", out])
    assert (code, stdout) == (2, "")
    assert clash.format(out=out, held=tmp_path / "r.held_out.sqlite") in err and "nothing was written" in err
    assert {path: path.read_bytes() for path in tmp_path.iterdir() if path.is_file()} == before


def test_the_held_out_list_may_not_overwrite_the_manifest(tmp_path):
    data = data_folder(tmp_path, 2)
    manifest = write_csv(tmp_path / "m.held_out.csv", manifest_rows([0, 1]))
    before = manifest.read_bytes()
    ReviewStore(tmp_path / "r.sqlite")
    code, _, err = run(["export", manifest, "--data", data, "--db", tmp_path / "r.sqlite", "--out", tmp_path / "m.csv"])
    assert code == 2 and f"--out's held-out list {manifest} would overwrite the manifest it reads" in err
    assert manifest.read_bytes() == before and not (tmp_path / "m.csv").exists()


def test_an_export_that_cannot_be_written_names_the_file_and_keeps_the_old_pair(files):
    tmp_path, data, manifest = files
    store = ReviewStore(tmp_path / "r.sqlite")
    out = tmp_path / "c.csv"
    out.write_text("the previous export\n")
    (tmp_path / "c.held_out.csv").mkdir()                           # something in the list's place
    code, stdout, err = run(["export", manifest, "--data", data, "--db", store.path, "--out", out])
    assert (code, stdout) == (1, "")
    assert err.startswith(f"relabel export: {tmp_path / 'c.held_out.csv'}: cannot be written (Is a directory)")
    assert out.read_text() == "the previous export\n"


def test_the_real_command_reports_without_a_traceback(files):
    tmp_path, data, _ = files
    done = subprocess.run([sys.executable, "-m", "relabel", "export", str(tmp_path / "absent.csv"), "--data",
                           str(data), "--db", str(tmp_path / "r.sqlite"), "--out", str(tmp_path / "c.csv")],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert done.stderr == f"relabel export: {tmp_path / 'absent.csv'}: file not found\n"


@pytest.mark.parametrize("weights, reason", [("missing.onnx", "model file not found"),
                                             ("junk.onnx", "not a glasses model file (onnxruntime cannot load")])
def test_suspects_names_a_model_file_it_cannot_load(tmp_path, weights, reason):
    data = data_folder(tmp_path, 2)
    manifest = write_csv(tmp_path / "m.csv", manifest_rows([0, 1]))   # no pred_prob: the model has to run
    (tmp_path / "junk.onnx").write_bytes(b"junk\n")
    code, out, err = run(["suspects", manifest, "--data", data, "--weights", tmp_path / weights])
    assert (code, out) == (1, "")
    assert err.startswith(f"relabel suspects: {tmp_path / weights}: {reason}")


def test_import_refuses_a_row_with_more_values_than_the_header(files):
    tmp_path, data, manifest = files
    decisions = tmp_path / "d.csv"
    decisions.write_text("path,label,reviewer\nimgs/img00.png,1,cat\nimgs/img01.png,0,Smith, Ana\n")
    code, _, err = run(["import", manifest, decisions, "--data", data, "--db", tmp_path / "r.sqlite"])
    assert code == 1 and "line 3: the row has more values than the header has columns" in err
    assert ReviewStore(tmp_path / "r.sqlite").history() == []


def test_import_reads_excels_byte_order_mark_and_refuses_a_repeated_column(files):
    tmp_path, data, manifest = files
    db = tmp_path / "r.sqlite"
    bom = tmp_path / "bom.csv"
    bom.write_bytes("path,label,reviewer\nimgs/img00.png,1,José\n".encode("utf-8-sig"))
    assert json.loads(run(["import", manifest, bom, "--data", data, "--db", db])[1])["recorded"] == 1
    twice = tmp_path / "twice.csv"
    twice.write_text("path,label,reviewer,label\nimgs/img01.png,1,cat,0\n")
    code, _, err = run(["import", manifest, twice, "--data", data, "--db", db])
    assert code == 1 and f"{twice}: the header names the column(s) 'label' more than once" in err
    assert len(ReviewStore(db).history()) == 1


def test_import_takes_one_reviewer_however_their_name_is_encoded_and_refuses_separators(files):
    tmp_path, data, manifest = files
    db = tmp_path / "r.sqlite"
    nfc, nfd = "Jos\u00e9", "Jose\u0301"
    decisions = write_csv(tmp_path / "d.csv", [{"path": "imgs/img00.png", "label": "1", "reviewer": nfc},
                                               {"path": "imgs/img00.png", "label": "0", "reviewer": nfd}])
    code, _, err = run(["import", manifest, decisions, "--data", data, "--db", db])
    assert code == 1 and f"line 3: {nfc} decided imgs/img00.png already on line 2" in err
    bad = write_csv(tmp_path / "bad.csv", [{"path": "imgs/img00.png", "label": "1", "reviewer": "ana=1"},
                                           {"path": "imgs/img01.png", "label": "1", "reviewer": "ana; ben"},
                                           {"path": "imgs/img02.png", "label": "1", "reviewer": "ana\x07"}])
    code, _, err = run(["import", manifest, bad, "--data", data, "--db", db])
    assert code == 1 and err.count("holds '=' or ';'") == 2 and err.count("holds a control or invisible") == 1
    assert ReviewStore(db).history() == []


def test_decisions_round_trip_through_import_rebuilds_the_same_store(files):
    """The committed record of a review: each reviewer's standing decision, in the format import reads; a store
    rebuilt from it exports the same corrected manifest."""
    tmp_path, data, manifest = files
    store = ReviewStore(tmp_path / "r.sqlite")
    for decision in [NewDecision("imgs/img00.png", "ana", FLIP, 0), NewDecision("imgs/img01.png", "ana", "keep", 1),
                     NewDecision("imgs/img02.png", "ana", "no_face", 0),
                     NewDecision("imgs/img03.png", "ben", "unsure", 1),
                     NewDecision("imgs/img04.png", "ben", "skip", 0),
                     NewDecision("imgs/img01.png", "ben", FLIP, 1)]:
        store.record(decision)
    store.record(NewDecision("imgs/img03.png", "ana", FLIP, 1))
    store.undo_last("ana")                                          # taken back: not a standing decision
    code, out, err = run(["decisions", manifest, "--data", data, "--db", store.path, "--out", tmp_path / "d.csv"])
    assert code == 0, err
    assert json.loads(out)["decisions"] == 5
    rows = read_csv(tmp_path / "d.csv")
    assert [(r["path"][-9:-4], r["label"], r["reviewer"]) for r in rows] == [
        ("img00", "1", "ana"), ("img01", "1", "ana"), ("img02", "no_face", "ana"), ("img03", "unsure", "ben"),
        ("img01", "0", "ben")]
    assert all(r["decided_at"].endswith("+00:00") or r["decided_at"].endswith("Z") for r in rows)
    rebuilt = tmp_path / "rebuilt.sqlite"
    assert run(["import", manifest, tmp_path / "d.csv", "--data", data, "--db", rebuilt])[0] == 0
    for db, out_csv in ((store.path, "a.csv"), (rebuilt, "b.csv")):
        assert run(["export", manifest, "--data", data, "--db", db, "--out", tmp_path / out_csv])[0] == 0
    assert read_csv(tmp_path / "a.csv") == read_csv(tmp_path / "b.csv")
    assert read_csv(tmp_path / "a.held_out.csv") == read_csv(tmp_path / "b.held_out.csv")


def test_decisions_refuses_a_missing_database_and_writes_nothing(files):
    tmp_path, data, manifest = files
    code, _, err = run(["decisions", manifest, "--data", data, "--db", tmp_path / "none.sqlite",
                        "--out", tmp_path / "d.csv"])
    assert code == 1 and "none.sqlite" in err and not (tmp_path / "d.csv").exists()


def test_sheets_number_the_rows_most_suspect_first_across_pages(files):
    from PIL import Image

    tmp_path, data, manifest = files
    (data / "imgs" / "img02.png").write_bytes(b"not a png")       # one unreadable image: drawn as such, not fatal
    code, out, err = run(["sheets", manifest, "--data", data, "--top", "4", "--per-sheet", "3",
                          "--out", tmp_path / "sheets"])
    assert code == 0, err
    assert json.loads(out)["sheets"] == 2
    index = read_csv(tmp_path / "sheets" / "index.csv")
    ranked = [r["path"] for r in csv.DictReader(io.StringIO(run(["suspects", manifest, "--data", data])[1]))]
    assert [r["path"] for r in index] == ranked[:4]
    assert [(r["sheet"], r["number"]) for r in index] == [("sheet_001.png", "1"), ("sheet_001.png", "2"),
                                                           ("sheet_001.png", "3"), ("sheet_002.png", "4")]
    first = Image.open(tmp_path / "sheets" / "sheet_001.png")
    assert first.size[0] == 6 * 192 and Image.open(tmp_path / "sheets" / "sheet_002.png").size == first.size


def test_sheets_of_chosen_paths_keep_the_ranked_order_and_refuse_unknown_paths(files):
    tmp_path, data, manifest = files
    chosen = write_csv(tmp_path / "chosen.csv", [{"path": "imgs/img04.png"}, {"path": "imgs/img00.png"}])
    code, out, err = run(["sheets", manifest, "--data", data, "--paths", chosen, "--out", tmp_path / "s"])
    assert code == 0, err
    ranked = [r["path"] for r in csv.DictReader(io.StringIO(run(["suspects", manifest, "--data", data])[1]))]
    assert [r["path"] for r in read_csv(tmp_path / "s" / "index.csv")] == \
        [p for p in ranked if p in ("imgs/img04.png", "imgs/img00.png")]
    stray = write_csv(tmp_path / "stray.csv", [{"path": "imgs/elsewhere.png"}])
    code, _, err = run(["sheets", manifest, "--data", data, "--paths", stray, "--out", tmp_path / "t"])
    assert code == 2 and "imgs/elsewhere.png" in err and not (tmp_path / "t").exists()


def test_suspects_pick_splits_a_top_share_and_disagreements(tmp_path):
    data = data_folder(tmp_path, 6)
    rows = manifest_rows([0, 1, 0, 1, 0, 1], [0.99, 0.03, 0.3, 0.8, 0.6, None])
    for row, split in zip(rows, ["train", "val", "test", "test", "val", "test"]):
        row["split"] = split
    manifest = write_csv(tmp_path / "m.csv", rows)

    def paths(*options):
        code, out, err = run(["suspects", manifest, "--data", data, *options])
        assert code == 0, err
        return [r["path"][-9:-4] for r in csv.DictReader(io.StringIO(out))]

    assert paths("--disagree-at", "0.5") == ["img00", "img01", "img04"]          # most suspect first
    assert paths("--disagree-at", "0.7") == ["img00", "img01"]
    assert paths("--split", "val", "test") == ["img01", "img04", "img02", "img03", "img05"]
    assert paths("--split", "val", "test", "--top-share", "0.4") == ["img01", "img04"]
    for hostile in ("0", "1.5", "nan", "-0.5", "inf", "abc"):
        for option in ("--top-share", "--disagree-at"):
            code, _, err = run(["suspects", manifest, "--data", data, option, hostile])
            assert code == 2 and "above 0 and at most 1" in err, (option, hostile)
    code, _, err = run(["suspects", manifest, "--data", data, "--split", "tset"])
    assert code == 2 and "invalid choice" in err


@pytest.mark.parametrize("clash", ["manifest", "db", "wal"])
def test_decisions_refuses_to_overwrite_its_manifest_or_database(files, clash):
    tmp_path, data, manifest = files
    db = tmp_path / "r.sqlite"
    ReviewStore(db).record(NewDecision("imgs/img00.png", "ana", FLIP, 0))
    before = {path: path.read_bytes() for path in (manifest, db)}
    out = {"manifest": manifest, "db": db, "wal": tmp_path / "r.sqlite-wal"}[clash]
    code, _, err = run(["decisions", manifest, "--data", data, "--db", db, "--out", out])
    assert code == 2 and "would overwrite" in err and "nothing was written" in err
    assert {path: path.read_bytes() for path in (manifest, db)} == before
