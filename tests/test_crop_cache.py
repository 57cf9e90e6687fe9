"""training.crops' cache: each image is detected once, whatever manifest it is in, and again only when its bytes
or the crop settings change. The detector is replaced by a fake that records what it was asked to detect."""
from __future__ import annotations

import numpy as np
import pytest

from training import crops
from training.crop_store import Entry

SIZE = 4


@pytest.fixture
def detected(monkeypatch):
    """The paths the (fake) detector was run on, in order. Its crop is filled with the file's first byte, and
    a file starting with "-" has no face, so every crop tells which bytes it came from."""
    paths = []

    def fake_detect(batch, settings, workers):
        for path in batch:
            paths.append(path)
            first = open(path, "rb").read(1)
            if first == b"-":
                yield Entry(None, 0.0, "no_face")
            else:
                yield Entry(np.full((settings["size"], settings["size"], 3), first[0], np.uint8), first[0] / 255, "ok")

    monkeypatch.setattr(crops, "detect_faces", fake_detect)
    monkeypatch.setattr(crops, "detector_fingerprint", lambda: "fake detector")
    return paths


@pytest.fixture
def photos(tmp_path):
    root = tmp_path / "data"
    root.mkdir()
    for i, first in enumerate(b"ab-cd"):
        (root / f"p{i}.jpg").write_bytes(bytes([first]) + b"rest of photo %d" % i)
    return root, [{"path": f"p{i}.jpg"} for i in range(5)]


def build(rows, root, cache, size=SIZE):
    return crops.load_or_build(rows, root, size, 0.25, workers=1, cache_dir=cache)


def test_a_manifest_one_row_shorter_detects_nothing(photos, detected, tmp_path):
    root, rows = photos
    first = build(rows, root, tmp_path / "cache")
    assert len(detected) == 5
    assert first.status.tolist() == ["ok", "ok", "no_face", "ok", "ok"]
    assert first.images[0].max() == ord("a") and not first.images[2].any()

    detected.clear()
    shorter = build(rows[:1] + rows[2:], root, tmp_path / "cache")   # row 1 dropped after a review
    assert detected == []
    for got, want in zip((shorter.images, shorter.face_prob, shorter.status),
                         (first.images, first.face_prob, first.status)):
        assert np.array_equal(got, np.delete(want, 1, axis=0))
        assert got.dtype == want.dtype

    reordered = build(rows[::-1], root, tmp_path / "cache")
    assert detected == [] and np.array_equal(reordered.images, first.images[::-1])


def test_a_changed_photo_is_detected_again_and_only_it(photos, detected, tmp_path):
    root, rows = photos
    build(rows, root, tmp_path / "cache")
    (root / "p3.jpg").write_bytes(b"z, the same name, another photo")
    detected.clear()
    again = build(rows, root, tmp_path / "cache")
    assert detected == [str(root / "p3.jpg")]
    assert again.images[3].max() == ord("z") and again.images[4].max() == ord("d")


def test_other_crop_settings_or_detector_detect_everything_again(photos, detected, tmp_path, monkeypatch):
    root, rows = photos
    build(rows, root, tmp_path / "cache")
    detected.clear()
    assert build(rows, root, tmp_path / "cache", size=SIZE + 2).images.shape == (5, SIZE + 2, SIZE + 2, 3)
    assert len(detected) == 5
    monkeypatch.setattr(crops, "detector_fingerprint", lambda: "another detector")
    detected.clear()
    build(rows, root, tmp_path / "cache")
    assert len(detected) == 5


def test_a_build_killed_midway_keeps_what_it_had_detected(photos, detected, tmp_path, monkeypatch):
    root, rows = photos
    fake = crops.detect_faces

    def dies_after_three(batch, settings, workers):
        for i, entry in enumerate(fake(batch, settings, workers)):
            if i == 3:
                raise KeyboardInterrupt
            yield entry

    monkeypatch.setattr(crops, "detect_faces", dies_after_three)
    with pytest.raises(KeyboardInterrupt):
        build(rows, root, tmp_path / "cache")
    monkeypatch.setattr(crops, "detect_faces", fake)
    detected.clear()
    assert build(rows, root, tmp_path / "cache").status.tolist() == ["ok", "ok", "no_face", "ok", "ok"]
    assert detected == [str(root / "p3.jpg"), str(root / "p4.jpg")]
    assert not list((tmp_path / "cache").rglob("*.partial"))


def test_a_damaged_entry_is_detected_again(photos, detected, tmp_path):
    root, rows = photos
    build(rows, root, tmp_path / "cache")
    entries = sorted((tmp_path / "cache").rglob("*.npz"))
    assert len(entries) == 5
    for entry in entries:
        entry.write_bytes(b"not a zip")
    detected.clear()
    assert build(rows, root, tmp_path / "cache").status.tolist() == ["ok", "ok", "no_face", "ok", "ok"]
    assert len(detected) == 5


def test_an_unreadable_photo_is_reported_and_never_cached(photos, detected, tmp_path, monkeypatch):
    root, rows = photos
    rows = rows + [{"path": "gone.jpg"}]

    def detect_or_report(batch, settings, workers):
        for path in batch:
            if path.endswith("gone.jpg"):
                detected.append(path)
                yield Entry(None, 0.0, "file not found")
            else:
                yield from fake([path], settings, workers)

    fake = crops.detect_faces
    monkeypatch.setattr(crops, "detect_faces", detect_or_report)
    assert build(rows, root, tmp_path / "cache").status[-1] == "file not found"
    detected.clear()
    assert build(rows, root, tmp_path / "cache").status[-1] == "file not found"
    assert detected == [str(root / "gone.jpg")]
