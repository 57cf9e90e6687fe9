"""What a visitor leaves on the server: the Batch tab's CSV, drawn photos and their zip (their photos, file
names and results) live in Gradio's cache, where the cache's clean-up and the app's exit delete them, and
nowhere else."""
from __future__ import annotations

import pytest
from gradio_client import Client, handle_file
from PIL import Image

from tests.app_server import running_app

pytestmark = pytest.mark.slow   # an app of its own, started and stopped


def test_the_batch_files_are_kept_only_in_gradios_cache_and_gone_after_exit(tmp_path):
    temp, cache = tmp_path / "tmp", tmp_path / "gradio-cache"
    temp.mkdir()
    photo = tmp_path / "visitor-photo.png"
    Image.new("RGB", (64, 48), 128).save(photo)
    with running_app(env={"TMPDIR": str(temp), "GRADIO_TEMP_DIR": str(cache)}) as app:
        _, csv_path, *_ = Client(app.url, verbose=False).predict([handle_file(photo)], api_name="/batch")
        assert open(csv_path).read().splitlines()[1].startswith("visitor-photo.png,")
        left = [p for p in (*temp.rglob("*"), *cache.rglob("*"))
                if p.is_file() and (p.suffix in (".csv", ".zip") or "visitor-photo_overlay" in p.name)]
        assert {p.suffix for p in left} == {".csv", ".zip", ".jpg"} and all(p.is_relative_to(cache) for p in left)
        [first] = cache.glob("glasses-batch-*")
        for written in first.iterdir():   # as the cache's clean-up deletes them after an hour
            written.unlink()
        Client(app.url, verbose=False).predict([handle_file(photo)], api_name="/batch")
        assert not first.exists()   # the next run clears away the folder the clean-up left empty
        assert len(list(cache.glob("glasses-batch-*"))) == 1
    after = [p for p in (*temp.rglob("*"), *cache.rglob("*")) if p.is_file()]
    assert not [p for p in after if p.suffix in (".csv", ".zip") or "visitor-photo" in p.name], after
