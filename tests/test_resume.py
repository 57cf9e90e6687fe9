"""`glasses predict --resume` (glasses/resume.py): a stopped run, killed at any point, continues from its output
file to what an uninterrupted run writes; --resume where it cannot work is a usage error."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
from PIL import Image

from glasses.cli import main
from tests.conftest import REPO
from tests.test_cli import run_captured

EXAMPLES = REPO / "webapp" / "examples"


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """The app's examples (one of them a group of three faces: three CSV rows) and a text file posing as a photo."""
    folder = tmp_path_factory.mktemp("resume")
    for photo in sorted(EXAMPLES.glob("*.jpg")):
        shutil.copy(photo, folder / photo.name)
    (folder / "notes.jpg").write_text("not a photo\n")
    return folder


def predict(folder, weights, out, fmt, *flags) -> int:
    code, _, err = run_captured(["predict", str(folder), "--weights", str(weights), "--format", fmt, "--quiet",
                                 "--output", str(out), *flags])
    assert "Traceback" not in err
    return code


@pytest.fixture(scope="module")
def uninterrupted(photos, random_weights, tmp_path_factory):
    folder = tmp_path_factory.mktemp("full")
    outputs = {}
    for fmt in ("csv", "jsonl"):
        assert predict(photos, random_weights, folder / f"full.{fmt}", fmt) == 1
        outputs[fmt] = (folder / f"full.{fmt}").read_bytes()
    return outputs


def cuts(full: bytes) -> dict[str, int]:
    """Where a killed run may have stopped writing: inside the header, at a line's end, inside a line, between
    the rows of one photo's faces, one byte short of the end, at the end."""
    ends = [i + 1 for i, byte in enumerate(full) if byte == ord("\n")]
    group = [end for end, line in zip(ends, full.splitlines()) if b"group.jpg" in line]
    return {"empty": 0, "torn first line": 5, "first line": ends[0], "inside a line": ends[1] + 7,
            "between one photo's faces": group[0] if len(group) > 1 else ends[2], "last byte missing": len(full) - 1,
            "whole": len(full)}


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_a_run_cut_anywhere_resumes_to_the_uninterrupted_file(photos, random_weights, uninterrupted, tmp_path, fmt):
    full = uninterrupted[fmt]
    for where, cut in cuts(full).items():
        out = tmp_path / f"cut.{fmt}"
        out.write_bytes(full[:cut])
        assert predict(photos, random_weights, out, fmt, "--resume") == 1, where   # notes.jpg: exit 1 either way
        assert out.read_bytes() == full, where


def test_resume_without_a_file_is_a_fresh_run(photos, random_weights, uninterrupted, tmp_path):
    assert predict(photos, random_weights, tmp_path / "new.csv", "csv", "--resume") == 1
    assert (tmp_path / "new.csv").read_bytes() == uninterrupted["csv"]


def test_resume_keeps_exit_status_1_for_errors_written_before(photos, random_weights, uninterrupted, tmp_path):
    out = tmp_path / "out.csv"
    out.write_bytes(uninterrupted["csv"])        # notes.jpg's error row is among the rows already written
    assert predict(photos, random_weights, out, "csv", "--resume") == 1
    assert out.read_bytes() == uninterrupted["csv"]


@pytest.mark.parametrize(("flags", "message"), [
    (["--format", "csv"], "--resume needs --output FILE"),
    (["--format", "json", "--output", "{tmp}/out.json"], "--resume works with --format csv or jsonl"),
    (["--format", "table", "--output", "{tmp}/out.txt"], "--resume works with --format csv or jsonl"),
    (["--format", "csv", "--output", "{tmp}/other.csv"], "was not written by `glasses predict --format csv` with "
                                                         "these columns"),
    (["--format", "jsonl", "--output", "{tmp}/other.csv"], "line 1 is not a glasses prediction"),
    (["--format", "csv", "--output", "{tmp}/rows.jsonl"], "was not written by `glasses predict --format csv`"),
], ids=["stdout", "json", "table", "other-columns", "csv-as-jsonl", "jsonl-as-csv"])
def test_resume_where_it_cannot_work_is_a_usage_error(photos, random_weights, uninterrupted, tmp_path, capsys,
                                                     flags, message):
    (tmp_path / "other.csv").write_text("name,label\nx.jpg,glasses\n")
    (tmp_path / "rows.jsonl").write_bytes(uninterrupted["jsonl"])
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    with pytest.raises(SystemExit) as caught:
        main(["predict", str(photos), "--weights", str(random_weights), "--quiet", "--resume",
              *[flag.format(tmp=tmp_path) for flag in flags]])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before   # nothing written, nothing cut


# ---------------------------------------------------------------- kill -9 halfway, then resume

@pytest.fixture(scope="module")
def many_photos(tmp_path_factory):
    """Forty large group photos (a second or more of work in all, so that a run can be killed halfway)."""
    folder = tmp_path_factory.mktemp("many")
    group = Image.open(EXAMPLES / "group.jpg")
    large = group.resize((group.width * 3, group.height * 3))
    for i in range(40):
        large.save(folder / f"group{i:02d}.jpg", quality=85)
    return folder


def killed_halfway(folder, weights, out, fmt, workers: str) -> int:
    """Start a run in a process of its own, SIGKILL it (and its workers) once some rows are written; the rows
    it had written by then."""
    argv = [sys.executable, "-m", "glasses", "predict", str(folder), "--weights", str(weights), "--format", fmt,
            "--output", str(out), "--workers", workers, "--quiet"]
    run = subprocess.Popen(argv, cwd=REPO, start_new_session=True, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and run.poll() is None:
            if out.exists() and out.read_bytes().count(b"\n") >= 12:
                break
            time.sleep(0.01)
        assert run.poll() is None, f"the run ended before it could be killed: {run.stderr.read().decode()}"
        os.killpg(run.pid, signal.SIGKILL)
    finally:
        run.wait(timeout=30)
    return out.read_bytes().count(b"\n")


@pytest.mark.slow
@pytest.mark.parametrize(("fmt", "workers"), [("csv", "2"), ("jsonl", "1")])
def test_a_run_killed_halfway_resumes_to_an_uninterrupted_runs_file(many_photos, random_weights, tmp_path, fmt,
                                                                   workers):
    full = tmp_path / f"full.{fmt}"
    assert predict(many_photos, random_weights, full, fmt) == 0
    out = tmp_path / f"killed.{fmt}"
    lines = killed_halfway(many_photos, random_weights, out, fmt, workers)
    assert 12 <= lines < full.read_bytes().count(b"\n")
    assert predict(many_photos, random_weights, out, fmt, "--resume", "--workers", workers) == 0
    assert out.read_bytes() == full.read_bytes()
