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
from tests.test_images import finished_within
from glasses.cli import main
from glasses.inputs import expand_inputs
from glasses.prediction import SCHEMA, FaceResult, Prediction

HEADER = "name,width,height,face,x1,y1,x2,y2,face_prob,glasses_prob,label,error"
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
    assert [(row["name"], row["label"], row["error"]) for row in rows] == expected
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
def test_json_formats_hold_the_predictions_the_csv_flattens(mixed_runs, fmt):
    code, out, _ = mixed_runs[fmt]
    if fmt == "json":
        objects = json.loads(out)
    else:
        objects = [json.loads(line) for line in out.splitlines()]
    assert all(obj["schema"] == SCHEMA and list(obj) == list(Prediction("x", None).to_dict()) for obj in objects)
    rows = [row for obj in objects for row in prediction_of(obj).rows()]
    assert [as_csv_values(row) for row in rows] == csv_rows(mixed_runs["csv"][1])
    assert code == 1


def prediction_of(obj: dict) -> Prediction:
    """The Prediction a JSON object describes (the faces' `face` index is their order)."""
    size = None if obj["width"] is None else (obj["width"], obj["height"])
    faces = tuple(FaceResult(tuple(f["box"]), f["face_prob"], f["glasses_prob"], f["label"]) for f in obj["faces"])
    return Prediction(obj["name"], size, faces, obj["error"])


def test_only_good_inputs_exit_0(tmp_path, random_weights, capsys):
    good_image().save(tmp_path / "good.png")
    Image.new("RGB", (10, 10)).save(tmp_path / "tiny.png")  # too small for a face: no_face, not an error
    code = main(["predict", str(tmp_path), "--weights", str(random_weights), "--format", "csv", "--quiet"])
    out = capsys.readouterr().out
    assert code == 0
    assert [(row["name"], row["label"], row["error"]) for row in csv_rows(out)] == [
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
    assert lines[1].split() == [str(tiny_png), "10", "10", "no_face"]


def test_output_file(tiny_png, tmp_path, random_weights, capsys):
    target = tmp_path / "results.csv"
    code = main(["predict", str(tiny_png), "--weights", str(random_weights), "--format", "csv", "--quiet",
                 "--output", str(target)])
    captured = capsys.readouterr()
    assert code == 0
    assert captured.out == ""
    assert target.read_text().splitlines() == [HEADER, f"{tiny_png},10,10,,,,,,,,no_face,"]


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
    assert "2 usage error, or the results could not be written" in " ".join(out.split())
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
    assert sorted({row["name"] for row in rows}) == torn
    for row in rows:
        assert row["label"] in FACE_LABELS, row
        assert row["error"] == "", row

    mitchell = expand_inputs([str(cmu / "mitchell")])
    bad_in_mitchell = sorted(str(path) for path in (cmu / "mitchell").glob("*.bad"))
    assert bad_in_mitchell and set(bad_in_mitchell) <= set(mitchell)


@pytest.mark.parametrize("flag", ["--threads", "--max-pixels", "--min-face-size", "--max-side", "--workers",
                                  "--batch-size"])
@pytest.mark.parametrize("value", ["-1", "0", "many", "1.5"])
def test_non_positive_numbers_are_usage_errors(flag, value, capsys):
    with pytest.raises(SystemExit) as caught:
        main(["predict", "x.jpg", flag, value])
    assert caught.value.code == 2
    assert f"argument {flag}: must be a positive whole number, got {value}" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["-0.1", "1.5", "nan", "high"])
def test_a_threshold_that_is_not_a_probability_is_a_usage_error(value, capsys):
    with pytest.raises(SystemExit) as caught:
        main(["predict", "x.jpg", "--threshold", value])
    assert caught.value.code == 2
    assert f"argument --threshold: must be between 0 and 1, got {value}" in capsys.readouterr().err


# ---------------------------------------------------------------- inputs, outputs and model files that go wrong

def test_fifo_named_or_walked_never_blocks_the_run(tmp_path, tiny_png, random_weights, capsys):
    folder = tmp_path / "folder"
    folder.mkdir()
    os.mkfifo(folder / "subject99.glasses")   # the walk would read its header to see whether it is an image
    os.mkfifo(tmp_path / "named.jpg")
    argv = ["predict", str(folder), str(tmp_path / "named.jpg"), str(tiny_png), "--weights", str(random_weights),
            "--format", "csv", "--quiet"]
    assert finished_within(60, lambda: main(argv)) == 1
    assert [(row["name"], row["label"], row["error"]) for row in csv_rows(capsys.readouterr().out)] == [
        (str(tmp_path / "named.jpg"), "error", "not a regular file"), (str(tiny_png), "no_face", "")]


def test_unreadable_subfolder_is_an_error_row_and_exit_1(tmp_path, random_weights, capsys, unlistable):
    for folder in ("locked", "open"):
        (tmp_path / folder).mkdir()
        Image.new("RGB", (10, 10)).save(tmp_path / folder / "tiny.png")
    unlistable(tmp_path / "locked")
    code = main(["predict", str(tmp_path), "--weights", str(random_weights), "--format", "csv", "--quiet"])
    assert [(row["name"], row["label"], row["error"]) for row in csv_rows(capsys.readouterr().out)] == [
        (str(tmp_path / "locked"), "error", "permission denied"), (str(tmp_path / "open" / "tiny.png"), "no_face", "")]
    assert code == 1


@pytest.mark.parametrize("spelling", ["same", "dotdot", "walked"])
def test_output_naming_an_input_is_refused_before_it_is_emptied(tmp_path, tiny_png, random_weights, capsys,
                                                                 spelling):
    before = tiny_png.read_bytes()
    given, output = {"same": (tiny_png, tiny_png),
                     "dotdot": (tiny_png, tmp_path / ".." / tmp_path.name / tiny_png.name),
                     "walked": (tmp_path, tiny_png)}[spelling]
    with pytest.raises(SystemExit) as caught:
        main(["predict", str(given), "--weights", str(random_weights), "--quiet", "--output", str(output)])
    assert caught.value.code == 2
    assert f"--output {output} is one of the inputs" in capsys.readouterr().err
    assert tiny_png.read_bytes() == before


def test_output_that_cannot_be_written_exits_2_naming_it(tiny_png, random_weights, capsys):
    with pytest.raises(SystemExit) as caught:
        main(["predict", str(tiny_png), "--weights", str(random_weights), "--format", "csv", "--quiet",
              "--output", "/dev/full"])
    assert caught.value.code == 2
    assert capsys.readouterr().err == "python -m glasses predict: error: cannot write /dev/full: " \
                                      "No space left on device\n"


def first_path(fmt: str, text: str) -> str:
    """The path of the first row in `text`, written in `fmt`."""
    if fmt == "table":
        return text.splitlines()[1].split("  ")[0]
    if fmt == "csv":
        return csv_rows(text)[0]["name"]
    return (json.loads(text) if fmt == "json" else [json.loads(line) for line in text.splitlines()])[0]["name"]


@pytest.mark.parametrize("fmt", ["table", "csv", "json", "jsonl"])
def test_file_names_that_are_not_utf8_are_written_in_every_format(tmp_path, random_weights, capsys, fmt):
    image = tmp_path / os.fsdecode(b"bad\xff.png")    # Python hands such a name over surrogate-escaped
    Image.new("RGB", (10, 10)).save(image)
    argv = ["predict", str(image), "--weights", str(random_weights), "--format", fmt, "--quiet"]
    assert main(argv) == 0
    assert main([*argv, "--output", str(tmp_path / "out.txt")]) == 0
    for written in (capsys.readouterr().out, (tmp_path / "out.txt").read_text(encoding="utf-8")):
        assert first_path(fmt, written) == str(tmp_path / "bad\\xff.png")


def bad_model_files(folder: Path) -> dict[str, tuple[Path, str]]:
    """Files someone might pass as --weights, and the reason the CLI must give for each."""
    import torch

    from glasses.blazeface import WEIGHTS_DIR

    files = {name: folder / f"{name}.onnx" for name in ("text", "jpeg")}
    files["text"].write_text("not a model\n")
    good_image().save(files["jpeg"], "JPEG")
    torch.save({"format_version": 1}, folder / "alone.pt")
    unreadable = "not a glasses model file (onnxruntime cannot load it: "
    return {
        "text": (files["text"], unreadable),
        "jpeg": (files["jpeg"], unreadable),
        "missing": (folder / "missing.onnx", "model file not found"),
        "detector": (WEIGHTS_DIR / "blazeface_short.onnx", "not a glasses model file (an ONNX model without "
                                                          "glasses' config; export one with python -m training.export)"),
        "pt_alone": (folder / "alone.pt", "a PyTorch model file, and glasses runs ONNX: no alone.onnx beside it; "
                                          f"make one with `python -m training.export --weights {folder / 'alone.pt'} "
                                          f"--out {folder}`"),
    }


@pytest.mark.parametrize("kind", ["text", "jpeg", "missing", "detector", "pt_alone"])
def test_bad_weights_file_is_a_usage_error_naming_it(tmp_path, tiny_png, capsys, kind):
    weights, reason = bad_model_files(tmp_path)[kind]
    with pytest.raises(SystemExit) as caught:
        main(["predict", str(tiny_png), "--weights", str(weights)])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert f"error: {weights}: {reason}" in err
    assert "Traceback" not in err


def test_a_pt_file_runs_through_the_export_beside_it(tmp_path, tiny_png, random_weights, capsys):
    weights = random_weights.with_suffix(".pt")
    assert main(["predict", str(tiny_png), "--weights", str(weights), "--format", "csv", "--quiet"]) == 0
    assert csv_rows(capsys.readouterr().out)[0]["label"] == "no_face"
    stale = tmp_path / "glasses.pt"
    stale.write_bytes(weights.read_bytes() + b"retrained")     # other weights than the export was made from
    (tmp_path / "glasses.onnx").write_bytes(random_weights.read_bytes())
    with pytest.raises(SystemExit) as caught:
        main(["predict", str(tiny_png), "--weights", str(stale)])
    assert caught.value.code == 2
    assert "glasses.onnx beside it was exported from other weights; export again" in capsys.readouterr().err


@pytest.mark.parametrize(("flag", "hint"), [
    (["--device", "tpu"], "argument --device: invalid choice: 'tpu'"),
    (["--backend", "torch"], "--backend is not used: the classifier always runs on onnxruntime"),
])
def test_flags_that_no_longer_mean_anything_are_refused_with_what_to_use(tiny_png, random_weights, capsys, flag,
                                                                         hint):
    with pytest.raises(SystemExit) as caught:
        main(["predict", str(tiny_png), "--weights", str(random_weights), *flag])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert hint in err and "Traceback" not in err


@pytest.fixture
def control_named(tmp_path) -> Path:
    """A folder of two non-images whose names hold control characters: a colour escape and a newline."""
    for name in ("a\x1b[31m.jpg", "two\nlines.jpg"):
        (tmp_path / name).write_bytes(b"not a photo")
    return tmp_path


@pytest.mark.parametrize("fmt", ["table", "csv"])
def test_control_characters_in_file_names_are_escaped_one_line_per_row(control_named, random_weights, capsys,
                                                                       fmt):
    code = main(["predict", str(control_named), "--weights", str(random_weights), "--format", fmt, "--quiet"])
    out = capsys.readouterr().out
    assert code == 1
    assert not any(ch in out for ch in "\x1b\r\t\x7f")
    lines = out.splitlines()
    assert len(lines) == 3                                   # the header and one line per file
    assert [first_path(fmt, "\n".join([lines[0], line])) for line in lines[1:]] == [
        str(control_named / "a\\x1b[31m.jpg"), str(control_named / "two\\x0alines.jpg")]
    assert all(line.rstrip().endswith("not an image") for line in lines[1:])
