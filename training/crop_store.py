"""The face crop cache on disk: one small file per image, keyed by the image's bytes and every setting that
shapes a crop.

Keyed per image, not per manifest, so that a manifest that differs by a few rows (one dropped after a
review, a source added) detects only the images it has not seen; keyed by content (SHA-256 of the file),
not by path, so that a photo replaced under the same name is detected again and a copy under another name
is not. The settings (the detector's fingerprint, crop size, margin, detection limits) name a folder of
their own: crops from another detector or size are never mixed in. Each entry is written to a temporary file
and renamed into place, so a run killed mid-build leaves whole entries and loses only the image in hand; an
entry that cannot be read is treated as absent and detected again.

    <cache_dir>/<settings key>/settings.json       the settings, for whoever looks
    <cache_dir>/<settings key>/<ab>/<sha256>.npz   crop (S, S, 3) uint8, or (0, 0, 3) without a face;
                                                   face_prob; status ("ok", "no_face" or why unreadable)
"""
from __future__ import annotations

import hashlib
import json
import os
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Entry:
    crop: np.ndarray | None   # (S, S, 3) uint8; None where no face was found
    face_prob: float
    status: str


def content_key(path: Path | str) -> str | None:
    """SHA-256 of the file's bytes (15,000 photos of the training data hash in about two seconds); None for a
    file that cannot be read, which is then detected every time (it fails fast) rather than cached."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


class CropStore:
    """The entries made with one set of `settings` (any JSON-able dict) under `cache_dir`."""

    def __init__(self, cache_dir: Path, settings: dict):
        text = json.dumps(settings, sort_keys=True)
        self.folder = Path(cache_dir) / hashlib.sha1(text.encode()).hexdigest()[:16]
        self._settings_text = text

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.npz"

    def get(self, key: str | None) -> Entry | None:
        """The entry for content `key`, or None where there is none or it cannot be read."""
        return None if key is None else _read_entry(self._path(key))

    def put(self, key: str | None, entry: Entry) -> None:
        """Store `entry` for content `key`; a None key (an unreadable file) stores nothing."""
        if key is None:
            return
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._write_settings()
        crop = entry.crop if entry.crop is not None else np.zeros((0, 0, 3), np.uint8)
        _replace_with(path, lambda f: np.savez(f, crop=crop, face_prob=np.float32(entry.face_prob),
                                                status=np.array(entry.status)))

    def _write_settings(self) -> None:
        settings = self.folder / "settings.json"
        if not settings.exists():
            _replace_with(settings, lambda f: f.write(self._settings_text.encode()))


def stored_faces(folder: Path, count: int, seed: int = 0) -> np.ndarray:
    """Up to `count` crops with a face, (N, S, S, 3) uint8, drawn at random from one store folder
    (`<cache_dir>/<settings key>`: the crops of one detector and crop size), e.g. real faces to calibrate an
    int8 export with. Reads only as many entries as it needs."""
    entries = sorted(Path(folder).glob("*/*.npz"))
    faces = []
    for i in np.random.default_rng(seed).permutation(len(entries)):
        if len(faces) == count:
            break
        entry = _read_entry(entries[i])
        if entry is not None and entry.crop is not None:
            faces.append(entry.crop)
    return np.stack(faces) if faces else np.zeros((0, 0, 0, 3), np.uint8)


def _read_entry(path: Path) -> Entry | None:
    """The entry in `path`, or None where there is none or it cannot be read."""
    try:
        with np.load(path, allow_pickle=False) as data:
            crop = data["crop"]
            return Entry(crop if crop.size else None, float(data["face_prob"]), str(data["status"]))
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None


def _replace_with(path: Path, write) -> None:
    """`write(file)` into a temporary file beside `path`, then rename it to `path`: readers see the old file
    or the whole new one, never half of it."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.partial")
    try:
        with open(temporary, "wb") as f:
            write(f)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
