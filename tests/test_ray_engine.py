"""`glasses predict --engine ray` (glasses/ray_engine.py): the local engine's rows from Predictors in Ray actors on
a local Ray instance; without Ray, a usage error that says how to install it."""
from __future__ import annotations

import importlib.util
import shutil
import sys
import zipfile

import pytest

from glasses.cli import main
from tests.conftest import REPO
from tests.test_cli import run_captured

EXAMPLES = REPO / "webapp" / "examples"
needs_ray = pytest.mark.skipif(importlib.util.find_spec("ray") is None,
                               reason='Ray is not installed (pip install "glasses[ray]"; requirements-dev.txt has it)')


@pytest.fixture
def photos(tmp_path, unlistable):
    """Photos with faces and without, a bad file, a zip with a torn member, and a folder that cannot be listed."""
    for photo in sorted(EXAMPLES.glob("*.jpg")):
        shutil.copy(photo, tmp_path / photo.name)
    (tmp_path / "notes.jpg").write_text("not a photo\n")
    with zipfile.ZipFile(tmp_path / "photos.zip", "w") as archive:
        archive.write(EXAMPLES / "group.jpg", "day1/group.jpg")
        archive.writestr("day1/torn.jpg", (EXAMPLES / "glasses.jpg").read_bytes()[:3000])
    (tmp_path / "locked").mkdir()
    unlistable(tmp_path / "locked")
    return [str(tmp_path), str(tmp_path / "photos.zip")]


@needs_ray
@pytest.mark.slow
def test_the_ray_engine_writes_the_local_engines_rows(photos, random_weights, tmp_path):
    argv = ["predict", *photos, "--weights", str(random_weights), "--quiet"]
    for fmt in ("csv", "jsonl"):
        local = run_captured([*argv, "--format", fmt])
        out = tmp_path / f"ray.{fmt}"
        code, _, _ = run_captured([*argv, "--format", fmt, "--engine", "ray", "--workers", "2", "--output", str(out)])
        assert (code, out.read_text(encoding="utf-8")) == local[:2]
        assert local[0] == 1
        assert "permission denied" in local[1] and "photos.zip/day1/torn.jpg" in local[1]


@pytest.fixture
def without_ray(monkeypatch):
    """`import ray` fails, as it does where Ray is not installed."""
    monkeypatch.setitem(sys.modules, "ray", None)
    monkeypatch.setitem(sys.modules, "ray.data", None)


def test_the_ray_engine_without_ray_says_how_to_install_it(without_ray, random_weights, capsys):
    with pytest.raises(SystemExit) as caught:
        main(["predict", str(EXAMPLES / "glasses.jpg"), "--weights", str(random_weights), "--engine", "ray"])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert 'error: --engine ray: the Ray engine needs Ray: pip install "glasses[ray]"' in err
    assert "Traceback" not in err


def test_an_address_without_the_ray_engine_is_a_usage_error(random_weights, capsys):
    with pytest.raises(SystemExit) as caught:
        main(["predict", str(EXAMPLES / "glasses.jpg"), "--address", "auto"])
    assert caught.value.code == 2
    assert "--address names a Ray cluster: use it with --engine ray" in capsys.readouterr().err


@needs_ray
def test_no_ray_cluster_at_the_address_is_an_error_naming_it(random_weights, capsys):
    with pytest.raises(SystemExit) as caught:
        main(["predict", str(EXAMPLES / "glasses.jpg"), "--weights", str(random_weights), "--engine", "ray",
              "--address", "127.0.0.1:1", "--quiet"])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert "error: cannot start Ray at 127.0.0.1:1" in err and "Traceback" not in err
