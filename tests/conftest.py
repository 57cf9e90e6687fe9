"""Shared fixtures: one untrained model file and one Predictor for the whole session."""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # so that a bare `pytest` works as well as `python -m pytest`
    sys.path.insert(0, str(REPO))

# Real photos live beside the checkout (../shared/data); they are never copied into the repository.
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
# A test marked so reads DATA; where DATA is absent it is skipped (pytest_collection_modifyitems), and
# `-m "not needs_data"` leaves all of them out.
needs_data = pytest.mark.needs_data
_NO_DATA = pytest.mark.skip(reason="real photos in ../shared/data are absent (they sit beside the checkout in CI)")


def pytest_collection_modifyitems(items):
    if not DATA.is_dir():
        for item in items:
            if item.get_closest_marker("needs_data"):
                item.add_marker(_NO_DATA)


@pytest.fixture(scope="session")
def random_weights(tmp_path_factory) -> Path:
    """An untrained GlassesNet exported as the shipped model is (an ONNX file with its config): enough to exercise
    every code path but the accuracy. The .pt it was exported from lies beside it."""
    from tests.model_files import write_model
    from training.glasses_net import GlassesNet

    return write_model(tmp_path_factory.mktemp("weights") / "random.pt", GlassesNet())


@pytest.fixture(scope="session")
def predictor(random_weights):
    import glasses

    return glasses.Predictor(random_weights)


@pytest.fixture(scope="session")
def review_set(tmp_path_factory):
    """A manifest of six made-up images with out-of-fold pred_prob, its data folder and a review database path.
    Ranked most suspect first: img00, img01, img02, img03, img05, img04."""
    from tests.relabel_fixtures import data_folder, manifest_rows, write_csv

    root = tmp_path_factory.mktemp("review")
    data = data_folder(root, 6)
    rows = manifest_rows([1, 0, 1, 0, 1, 0], [0.05, 0.9, 0.4, 0.2, 0.95, 0.1])
    return write_csv(root / "manifest.csv", rows), data, root / "reviews.sqlite"


@pytest.fixture(scope="session")
def app_server(review_set):
    """`python app.py` with the shipped model on a free loopback port, reviewing `review_set` in its Relabel tab
    (whose Export button writes corrected.csv beside the database), for the REST and browser tests."""
    from tests.app_server import running_app

    manifest, data, db = review_set
    with running_app("--manifest", str(manifest), "--data", str(data), "--db", str(db),
                     "--export", str(db.parent / "corrected.csv")) as app:
        yield app


@pytest.fixture
def unlistable(monkeypatch):
    """`unlistable(folder)`: os.scandir answers that folder as the kernel answers a reader its mode shuts out
    (the tests may run as root, whom chmod does not stop), so os.walk's own error path runs."""
    import errno
    import os

    scandir, refused = os.scandir, set()

    def scandir_refusing(path="."):
        if os.fspath(path) in refused:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fspath(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", scandir_refusing)
    return lambda folder: refused.add(str(folder))


# Debian's chromium, which the browser tests drive through Playwright (its own browser downloads need the
# internet); those tests skip, saying why, where it is absent.
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium for a module of browser tests (tests/test_app_browser*.py), which open their own
    pages. Per module, not per session: Playwright's sync API runs an event loop on this thread while it is
    open, and tests elsewhere that call asyncio.run would fail beside it."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()
