"""webapp.shared_predictor: every model call of the app runs on one thread, one at a time, whoever asks.

bench/load.py measures what this is for (the app's memory under bursts); here, the property it rests on.
"""
from __future__ import annotations

import asyncio
import io
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from PIL import Image

import webapp.shared_predictor as shared
from webapp.shared_predictor import SharedPredictor


class RecordingPredictor:
    """Stands in for glasses.Predictor: records which thread called it and whether two calls overlapped."""

    max_pixels, threshold = 50_000_000, 0.5

    @staticmethod
    def hold_side(size):
        return 2048

    def show_hold(self, show_side):
        return self.hold_side

    def __init__(self):
        self.threads, self.running, self.overlapped = set(), 0, False
        self._lock = threading.Lock()

    def _enter(self):
        with self._lock:
            self.threads.add(threading.current_thread().name)
            self.running += 1
            self.overlapped |= self.running > 1
        time.sleep(0.01)
        with self._lock:
            self.running -= 1

    def predict(self, image):
        self._enter()
        return []

    def predict_image(self, source, name=None, show_side=None):
        self._enter()
        from glasses import Prediction
        from glasses.images import load_image_scaled
        photo = load_image_scaled(source, self.hold_side)
        return Prediction(name, photo.full_size, photo=photo)


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 6)).save(out, "PNG")
    return out.getvalue()


def test_calls_from_many_threads_and_the_event_loop_run_on_one_worker_one_at_a_time(monkeypatch):
    trims = []
    monkeypatch.setattr(shared, "_trim_heap", lambda: trims.append(1))
    model = RecordingPredictor()
    predictor = SharedPredictor(model, "weights.pt")
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda i: predictor.classify(png(), f"{i}.png") if i % 2 else predictor.predict(png()),
                                range(16)))

    async def from_the_loop():
        return await asyncio.gather(*[predictor.classify_async(io.BytesIO(png()), f"{i}.png") for i in range(4)])

    results += asyncio.run(from_the_loop())
    assert len(results) == 20 and len(model.threads) == 1 and not model.overlapped
    assert [name.startswith("predictor") for name in model.threads] == [True]
    assert len(trims) == 20   # the heap is trimmed after every call
