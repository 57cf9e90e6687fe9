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
    ReviewStore(tmp_path / "r.sqlite")
    code, _, err = run(["export", manifest, "--data", data, "--db", tmp_path / "r.sqlite", "--out", manifest])
    assert code == 2 and "--out must not be the manifest it reads" in err
    assert not (tmp_path / "c.csv").exists()


def test_the_real_command_reports_without_a_traceback(files):
    tmp_path, data, _ = files
    done = subprocess.run([sys.executable, "-m", "relabel", "export", str(tmp_path / "absent.csv"), "--data",
                           str(data), "--db", str(tmp_path / "r.sqlite"), "--out", str(tmp_path / "c.csv")],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert done.stderr == f"relabel export: {tmp_path / 'absent.csv'}: file not found\n"
