"""Crops classified across photos (glasses/batched.py, `--batch-size`, what `--device cuda` runs): the rows of
the per-photo path, here on the CPU; and `--device cuda` where onnxruntime has no CUDA is a clear usage error."""
from __future__ import annotations

import shutil
import zipfile

import pytest

from glasses.batched import predict_batched
from glasses.cli import main
from glasses.images import ImageError
from glasses.inputs import as_many_item, expand_inputs
from glasses.runtime import DeviceError, load_classifier
from tests.conftest import REPO
from tests.test_cli import run_captured

EXAMPLES = REPO / "webapp" / "examples"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """Photos with one face, three faces and none, a bad file, a zip's images, and a folder that could not be
    listed, as predict_many takes them."""
    folder = tmp_path_factory.mktemp("batched")
    for copy in ("a", "b", "c"):
        for photo in sorted(EXAMPLES.glob("*.jpg")):
            shutil.copy(photo, folder / f"{copy}_{photo.name}")
    (folder / "d_notes.jpg").write_text("not a photo\n")
    with zipfile.ZipFile(folder / "e.zip", "w") as archive:
        archive.write(EXAMPLES / "group.jpg", "group.jpg")
        archive.writestr("torn.jpg", (EXAMPLES / "glasses.jpg").read_bytes()[:3000])
    items = expand_inputs([str(folder), str(folder / "e.zip"), str(folder / "missing.jpg")])
    return [as_many_item(item) for item in items] + [ImageError(str(folder / "locked"), "permission denied")]


@pytest.mark.parametrize(("batch_size", "window"), [(1, 1), (3, 4), (64, 32), (5, 100)])
def test_crops_batched_across_photos_give_the_per_photo_predictions(predictor, inputs, batch_size, window):
    expected = list(predictor.predict_many(inputs))
    got = list(predict_batched(predictor, inputs, batch_size=batch_size, window=window))
    assert got == expected
    assert sum(len(p.faces) for p in got) >= 12 and sum(p.error is not None for p in got) == 4


def test_batched_photos_kept_for_overlays_are_the_per_photo_ones(predictor, inputs):
    expected = list(predictor.predict_many(inputs[:4], show_side=10_000))
    got = list(predict_batched(predictor, inputs[:4], batch_size=8, show_side=10_000))
    assert got == expected
    assert [p.photo.image.size for p in got] == [p.photo.image.size for p in expected]


def test_the_cli_with_batch_size_writes_the_per_photo_rows(inputs, random_weights):
    folder = str(EXAMPLES)
    argv = ["predict", folder, "--weights", str(random_weights), "--format", "csv", "--quiet"]
    assert run_captured([*argv, "--batch-size", "2"]) == run_captured(argv)
    assert run_captured([*argv, "--batch-size", "2", "--workers", "2"]) == run_captured(argv)


def test_cuda_without_its_provider_is_a_usage_error_saying_what_to_install(random_weights, capsys):
    import onnxruntime

    if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        pytest.skip("this onnxruntime has CUDA")
    with pytest.raises(DeviceError, match="no CUDAExecutionProvider.*pip install onnxruntime-gpu"):
        load_classifier(random_weights, threads=1, device="cuda")
    for workers in ("1", "2"):
        with pytest.raises(SystemExit) as caught:
            main(["predict", str(EXAMPLES / "glasses.jpg"), "--weights", str(random_weights), "--device", "cuda",
                  "--workers", workers])
        assert caught.value.code == 2
    err = capsys.readouterr().err
    assert "error: onnxruntime here has no CUDAExecutionProvider" in err
    assert "pip install onnxruntime-gpu" in err and "Traceback" not in err
