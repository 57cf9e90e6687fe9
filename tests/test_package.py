"""glasses as a package: the wheel pyproject.toml builds carries the inference model files and nothing else of
weights/, and once installed it runs, from any folder, on those files alone, by `python -m glasses` and by the
`glasses` command alike; a checkout runs those of its own weights/.

The build runs on a copy of what it reads (pyproject.toml, glasses/, weights/), so that it leaves no build/ or
egg-info in the checkout and cannot race another build there; it is installed with `pip --target`, away from
the checkout and the interpreter's own site-packages.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import REPO

MODEL_FILES = {"glasses.onnx", "blazeface_short.onnx", "model_card.json", "model_card.md", "LICENSE-BLAZEFACE"}


def test_a_checkout_runs_the_model_files_of_its_weights_folder():
    from glasses.blazeface import WEIGHTS_DIR
    from glasses.weights import DEFAULT_WEIGHTS
    from glasses.weights_folder import weights_folder

    assert weights_folder() == WEIGHTS_DIR == REPO / "weights"
    assert DEFAULT_WEIGHTS == REPO / "weights" / "glasses.onnx"


def pip(*args: str, cwd: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, f"pip {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    source = tmp_path_factory.mktemp("source")
    shutil.copy(REPO / "pyproject.toml", source)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(REPO / "glasses", source / "glasses", ignore=ignore)
    shutil.copytree(REPO / "weights", source / "weights", ignore=ignore)
    out = tmp_path_factory.mktemp("wheels")
    pip("wheel", "--no-deps", "--no-build-isolation", "--wheel-dir", str(out), ".", cwd=source)
    (built,) = out.glob("glasses-*.whl")
    return built


@pytest.fixture(scope="module")
def site(wheel, tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("site")
    pip("install", "--no-deps", "--no-index", "--target", str(target), str(wheel), cwd=target)
    return target


@pytest.fixture
def run_installed(site, tmp_path):
    """`run_installed(*command, env=...)`: the command run in a folder of its own, finding glasses in `site`
    only (not the checkout, nor an install in the interpreter's site-packages), with no GLASSES_* variables."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    def run(*command: str, **env: str) -> subprocess.CompletedProcess:
        base = {k: v for k, v in os.environ.items() if not k.startswith("GLASSES_") and k != "PYTHONPATH"}
        return subprocess.run(command, cwd=elsewhere, env={**base, "PYTHONPATH": str(site), **env},
                              capture_output=True, text=True, timeout=300, check=False)
    return run


@pytest.fixture
def faceless_photo(tmp_path) -> Path:
    """A photo with no face in it: its answer, no faces, still needs both models loaded."""
    path = tmp_path / "wall.png"
    Image.new("RGB", (320, 240), (150, 120, 90)).save(path)
    return path


@pytest.mark.slow
def test_the_wheel_carries_the_inference_files_of_weights_and_no_others(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    models = {name.removeprefix("glasses/models/") for name in names if name.startswith("glasses/models/")}
    assert models == MODEL_FILES | {"__init__.py"}
    assert not [name for name in names if name.endswith((".pt", ".tflite", ".png")) or "plots/" in name]
    assert not [name for name in names if name.split("/")[0] in ("training", "webapp", "relabel", "tests", "weights")]


@pytest.mark.slow
def test_the_installed_package_finds_its_own_model_files(run_installed, site):
    done = run_installed(sys.executable, "-c", "import glasses, glasses.weights as w, glasses.blazeface as b; "
                                               "print(glasses.__file__, w.DEFAULT_WEIGHTS, b.WEIGHTS_DIR, sep='\\n')")
    assert done.returncode == 0, done.stderr
    package, weights, detector_folder = map(Path, done.stdout.split("\n")[:3])
    models = site / "glasses" / "models"
    assert (package, weights, detector_folder) == (site / "glasses" / "__init__.py", models / "glasses.onnx", models)


def answer_of(done: subprocess.CompletedProcess, photo: Path) -> dict:
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    (answer,) = json.loads(done.stdout)
    assert (answer["name"], answer["width"], answer["height"]) == (str(photo), 320, 240)
    return answer


@pytest.mark.slow
def test_python_m_glasses_predicts_with_the_packaged_models(run_installed, faceless_photo):
    done = run_installed(sys.executable, "-m", "glasses", "predict", str(faceless_photo), "--format", "json")
    answer = answer_of(done, faceless_photo)
    assert (answer["faces"], answer["error"]) == ([], None)


@pytest.mark.slow
def test_the_glasses_command_behaves_as_python_m_glasses(run_installed, site, faceless_photo):
    command = site / "bin" / "glasses"
    done = run_installed(str(command), "predict", str(faceless_photo), "--format", "json")
    assert answer_of(done, faceless_photo)["faces"] == []
    done = run_installed(str(command), "predict", str(faceless_photo), GLASSES_MAX_SIDE="wide")
    assert done.returncode == 2
    assert "error: environment variable GLASSES_MAX_SIDE='wide'" in done.stderr and "Traceback" not in done.stderr
