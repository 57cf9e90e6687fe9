"""The exported files (TorchScript, ONNX, int8 ONNX) must compute what the PyTorch model computes, and the exporter
must refuse an export that does not."""
from __future__ import annotations

import copy
import json

import numpy as np
import onnxruntime as ort
import pytest
import torch

import training.export as export
from training.lite_net import LiteNet
from training.glasses_net import GlassesNet
from training.model_file import load_model, save_model

SIZE = 32  # small crops and widths keep the exports, and this file, fast
pytestmark = [pytest.mark.slow,   # every export takes seconds
              pytest.mark.filterwarnings("ignore:`torch\\.jit\\..*deprecated:FutureWarning")]


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(params=["GlassesNet", "LiteNet"])
def model_files(tmp_path, request):
    """Both architectures (a file's mirror averaging is glasses' own; the exports hold one pass)."""
    torch.manual_seed(0)
    model = GlassesNet(widths=(8, 16, 16, 24, 32)) if request.param == "GlassesNet" else LiteNet(depth=3)
    with torch.no_grad():  # non-trivial BatchNorm statistics, so that folding them matters
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
    weights = tmp_path / "model.pt"
    save_model(model, weights, SIZE, 0.25, 0.5, mirror_average=True, mirror_band=2.0)
    crops = tmp_path / "crops.npy"
    np.save(crops, np.random.default_rng(1).integers(0, 256, (16, SIZE, SIZE, 3), dtype=np.uint8))
    return weights, crops


def _args(weights, crops, out) -> list[str]:
    return ["--weights", str(weights), "--out", str(out), "--calibration", str(crops), "--count", "16",
            "--threads", "1", "--runs", "3"]


def test_exports_match_pytorch(model_files, tmp_path, capsys):
    weights, crops = model_files
    out = tmp_path / "out"
    assert export.main(_args(weights, crops, out) + ["--quantize", "--json", str(tmp_path / "r.json")]) == 0
    assert "onnx-int8" in capsys.readouterr().out
    result = json.loads((tmp_path / "r.json").read_text())
    assert [v["variant"] for v in result["variants"]] == ["pytorch", "torchscript", "onnx", "onnx-int8"]
    assert 0.0 <= result["variants"][-1]["label_agreement"] <= 1.0

    model, _ = load_model(weights)
    scripted = torch.jit.load(str(out / export.TORCHSCRIPT))
    session = ort.InferenceSession(str(out / export.ONNX), providers=["CPUExecutionProvider"])
    int8 = ort.InferenceSession(str(out / export.INT8), providers=["CPUExecutionProvider"])
    for batch in (1, 5):
        images = torch.rand(batch, 3, SIZE, SIZE)
        with torch.no_grad():
            expected = model(images)
            assert torch.allclose(scripted(images), expected, atol=1e-4)
        assert np.allclose(session.run(["logit"], {"image": images.numpy()})[0], expected.numpy(), atol=1e-4)
        assert int8.run(["logit"], {"image": images.numpy()})[0].shape == (batch,)


def test_the_onnx_export_carries_what_glasses_needs_to_run_it(model_files, tmp_path):
    from glasses.runtime import load_classifier

    weights, crops = model_files
    assert export.main(_args(weights, crops, tmp_path / "out")) == 0
    config = load_classifier(tmp_path / "out" / export.ONNX, threads=1).config
    assert {key: config[key] for key in ("input_size", "crop_margin", "threshold", "mirror_band")} \
        == {"input_size": SIZE, "crop_margin": 0.25, "threshold": 0.5, "mirror_band": 2.0}


def test_a_wrong_export_fails(model_files, tmp_path, monkeypatch, capsys):
    weights, crops = model_files
    real_export = export.export_onnx

    def export_a_different_model(model, example, path, weights_sha256, config):
        broken = copy.deepcopy(model)
        list(broken.parameters())[-1].data += 1.0   # the output bias, in any of the architectures
        real_export(broken, example, path, weights_sha256, config)

    monkeypatch.setattr(export, "export_onnx", export_a_different_model)
    assert export.main(_args(weights, crops, tmp_path / "out")) == 1
    assert "the onnx export differs from PyTorch" in capsys.readouterr().err
    assert not (tmp_path / "out" / export.ONNX).exists()
    assert (tmp_path / "out" / export.TORCHSCRIPT).exists()


def test_quantize_needs_real_crops(model_files, tmp_path):
    with pytest.raises(SystemExit) as exit_:
        export.main(["--weights", str(model_files[0]), "--out", str(tmp_path / "out"), "--quantize"])
    assert exit_.value.code == 2
    assert not (tmp_path / "out").exists()


def test_calibration_crops_come_from_a_crop_cache_folder_faces_only(tmp_path):
    from training.crop_store import CropStore, Entry
    store = CropStore(tmp_path / "cache", {"size": SIZE})
    for i in range(6):
        face = np.full((SIZE, SIZE, 3), 10 * i, np.uint8) if i % 2 else None
        store.put(f"{i:064x}", Entry(face, 0.9 if face is not None else 0.0, "ok" if face is not None else "no_face"))
    crops = export.load_crops(store.folder, SIZE, 16)
    assert crops.shape == (3, 3, SIZE, SIZE)
    assert sorted(round(float(c.max()) * 255) for c in crops) == [10, 30, 50]
    assert export.load_crops(store.folder, SIZE, 2).shape[0] == 2
    with pytest.raises(ValueError, match=r"crops of shape \(32, 32, 3\), the model takes \(64, 64, 3\)"):
        export.load_crops(store.folder, 64, 16)


def test_calibration_without_face_crops_is_refused_by_name(model_files, tmp_path, capsys):
    empty = tmp_path / "cache" / "0123456789abcdef"
    empty.mkdir(parents=True)
    with pytest.raises(SystemExit) as exit_:
        export.main(_args(model_files[0], empty, tmp_path / "out") + ["--quantize"])
    assert exit_.value.code == 2
    assert f"--calibration: {empty}: no face crops there" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
