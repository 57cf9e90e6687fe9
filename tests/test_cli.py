"""`python -m glasses predict`, run in-process on folders built here (and, where present, on ../shared/data)."""
from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import DATA, REPO, needs_data
from glasses.cli import main
from glasses.inputs import expand_inputs

HEADER = "path,face,x1,y1,x2,y2,face_prob,glasses_prob,label,error"
COLUMNS = HEADER.split(",")
FACE_LABELS = {"glasses", "no_glasses", "no_face"}


def good_image(size=32) -> Image.Image:
    """A smooth synthetic photo; small, so MTCNN's passes over it are quick. It holds no face."""
    y, x = np.mgrid[0:size, 0:size]
    return Image.fromarray(np.stack([x * 7, y * 7, (x + y) * 3], -1).astype(np.uint8))


def run_captured(argv: list[str]) -> tuple[int, str, str]:
    """main(argv) with stdout and stderr captured (usable in module-scoped fixtures, unlike capsys)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def csv_rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def as_csv_values(row: dict) -> dict:
    return {key: "" if value is None else str(value) for key, value in row.items()}


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """A folder of good, unreadable and non-image files; returns (folder, the rows expected, in order)."""
    folder = tmp_path_factory.mktemp("mixed")
    good_image().save(folder / "a_good.png")
    jpeg = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(jpeg, "JPEG")
    (folder / "b_truncated.jpg").write_bytes(jpeg.getvalue()[: len(jpeg.getvalue()) // 2])
    (folder / "empty.png").write_bytes(b"")
    good_image(24).save(folder / "gif_without_extension", "GIF")
    (folder / "photo.jpg").write_text("a text file pretending to be a photo\n")
    Image.new("RGB", (10, 10), (200, 30, 30)).save(folder / "tiny.png")
    (folder / "README.txt").write_text("not an image; the folder walk passes over it\n")
    good_image().save(folder / ".x.png")
    (folder / ".hidden").mkdir()
    good_image().save(folder / ".hidden" / "inside.png")
    (folder / "sub").mkdir()
    good_image(28).save(folder / "sub" / "c_nested.png")

    def at(*parts):
        return os.path.join(str(folder), *parts)

    expected = [  # (path, label, error): root files by name, then the subfolder, then explicit paths
        (at("a_good.png"), "no_face", ""),
        (at("b_truncated.jpg"), "error", "truncated JPEG"),
        (at("empty.png"), "error", "empty file"),
        (at("gif_without_extension"), "no_face", ""),
        (at("photo.jpg"), "error", "not an image"),
        (at("tiny.png"), "no_face", ""),
        (at("sub", "c_nested.png"), "no_face", ""),
        (at("missing.jpg"), "error", "file not found"),
    ]
    return folder, expected


@pytest.fixture(scope="module")
def mixed_runs(mixed, random_weights):
    """The mixed folder (plus a file inside it again, and a missing file) in csv, json and jsonl."""
    folder, expected = mixed
    paths = [str(folder), str(folder / "a_good.png"), expected[-1][0]]
    return {fmt: run_captured(["predict", *paths, "--weights", str(random_weights), "--format", fmt, "--quiet"])
            for fmt in ("csv", "json", "jsonl")}


def test_csv_has_one_row_per_file_in_stable_order(mixed, mixed_runs):
    _, expected = mixed
    code, out, err = mixed_runs["csv"]
    assert out.splitlines()[0] == HEADER
    rows = csv_rows(out)
    assert [(row["path"], row["label"], row["error"]) for row in rows] == expected
    for row in rows:
        assert row["face"] == row["x1"] == row["face_prob"] == row["glasses_prob"] == ""
    assert code == 1          # some inputs were unreadable; all the others were still processed
    assert err == ""          # --quiet: no progress bar


def test_folder_walk_order_is_sorted_and_stable(mixed):
    folder, expected = mixed
    walked = expand_inputs([str(folder)])
    assert walked == [path for path, _, _ in expected[:-1]]
    assert expand_inputs([str(folder)]) == walked
    assert expand_inputs([str(folder), str(folder / "tiny.png")]) == walked  # a file reached twice counts once


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_json_formats_have_the_same_rows_as_csv(mixed_runs, fmt):
    code, out, _ = mixed_runs[fmt]
    if fmt == "json":
        rows = json.loads(out)
    else:
        rows = [json.loads(line) for line in out.splitlines()]
    assert all(list(row) == COLUMNS for row in rows)
    assert [as_csv_values(row) for row in rows] == csv_rows(mixed_runs["csv"][1])
    assert code == 1


def test_only_good_inputs_exit_0(tmp_path, random_weights, capsys):
    good_image().save(tmp_path / "good.png")
    Image.new("RGB", (10, 10)).save(tmp_path / "tiny.png")  # too small for a face: no_face, not an error
    code = main(["predict", str(tmp_path), "--weights", str(random_weights), "--format", "csv", "--quiet"])
    out = capsys.readouterr().out
    assert code == 0
    assert [(row["path"], row["label"], row["error"]) for row in csv_rows(out)] == [
        (str(tmp_path / "good.png"), "no_face", ""), (str(tmp_path / "tiny.png"), "no_face", "")]


@pytest.fixture
def tiny_png(tmp_path) -> Path:
    """An image MTCNN never runs on (below 16 px), for tests about output rather than detection."""
    path = tmp_path / "tiny.png"
    Image.new("RGB", (10, 10)).save(path)
    return path


def test_table_format_has_a_header_line(tiny_png, random_weights, capsys):
    code = main(["predict", str(tiny_png), "--weights", str(random_weights), "--quiet"])  # table is the default
    lines = capsys.readouterr().out.splitlines()
    assert code == 0
    assert lines[0].split() == COLUMNS
    assert len(lines) == 2
    assert lines[1].split() == [str(tiny_png), "no_face"]


def test_output_file(tiny_png, tmp_path, random_weights, capsys):
    target = tmp_path / "results.csv"
    code = main(["predict", str(tiny_png), "--weights", str(random_weights), "--format", "csv", "--quiet",
                 "--output", str(target)])
    captured = capsys.readouterr()
    assert code == 0
    assert captured.out == ""
    assert target.read_text().splitlines() == [HEADER, f"{tiny_png},,,,,,,,no_face,"]


@pytest.mark.parametrize("argv", [
    ["--bogus"],
    ["--threshold", "2"],
    ["--threshold", "-0.1"],
    ["--format", "xml"],
    [],                     # no PATH
], ids=["bad-flag", "threshold-2", "threshold-negative", "bad-format", "no-path"])
def test_usage_errors_exit_2(argv, tiny_png, capsys):
    paths = [str(tiny_png)] if argv else []
    with pytest.raises(SystemExit) as caught:
        main(["predict", *paths, *argv])
    assert caught.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_missing_weights_exit_2_naming_the_file(tiny_png, tmp_path, capsys):
    weights = tmp_path / "no_such_model.pt"
    with pytest.raises(SystemExit) as caught:
        main(["predict", str(tiny_png), "--weights", str(weights)])
    assert caught.value.code == 2
    assert str(weights) in capsys.readouterr().err


def test_help_via_python_dash_m():
    """Both help texts, from fresh interpreters started side by side (each imports torch)."""
    commands = {"top": ["--help"], "predict": ["predict", "--help"]}
    started = {name: subprocess.Popen([sys.executable, "-m", "glasses", *args], cwd=REPO, text=True,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE)
               for name, args in commands.items()}
    results = {name: (process.communicate(timeout=300), process.returncode) for name, process in started.items()}
    (top_out, top_err), top_code = results["top"]
    assert top_code == 0, top_err
    assert "predict" in top_out
    (out, err), code = results["predict"]
    assert code == 0, err
    assert HEADER in "".join(out.split())   # argparse may wrap the column list
    assert "Exit status" in out
    for flag in ("--format", "--output", "--threshold", "--weights"):
        assert flag in out


# ---------------------------------------------------------------- real photos beside the checkout

@needs_data
def test_torn_camera_frames_in_cmu_faces_are_processed(random_weights, capsys):
    cmu = DATA / "cmu_faces"
    torn = sorted(str(path) for path in cmu.glob("*/*.bad"))
    assert len(torn) == 7
    code = main(["predict", *torn, "--weights", str(random_weights), "--format", "csv", "--quiet"])
    rows = csv_rows(capsys.readouterr().out)
    assert code == 0
    assert sorted({row["path"] for row in rows}) == torn
    for row in rows:
        assert row["label"] in FACE_LABELS, row
        assert row["error"] == "", row

    mitchell = expand_inputs([str(cmu / "mitchell")])
    bad_in_mitchell = sorted(str(path) for path in (cmu / "mitchell").glob("*.bad"))
    assert bad_in_mitchell and set(bad_in_mitchell) <= set(mitchell)


@pytest.mark.parametrize("flag", ["--threads", "--max-pixels", "--min-face-size", "--max-side"])
def test_non_positive_numbers_are_usage_errors(flag, capsys):
    with pytest.raises(SystemExit) as caught:
        main(["predict", "x.jpg", flag, "-1"])
    assert caught.value.code == 2
    assert "must be a positive whole number" in capsys.readouterr().err
