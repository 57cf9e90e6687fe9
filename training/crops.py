"""Detect and crop every manifest image once, with the inference detector and crop, and cache the result.

The cache (`.cache/crops/`, never committed; training/crop_store.py) holds each image's crop keyed by the
image's bytes and every setting that changes a crop: a changed detector or crop size recomputes instead of
silently reusing stale faces, and a manifest a review changed by a few rows detects only the images it has
not seen. Images in which no face is found, or which cannot be read, are kept in the arrays (flagged) so they
are counted and reported.
"""
from __future__ import annotations

import hashlib
import multiprocessing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from glasses.config import DEFAULTS
from glasses.crop import crop_face
from glasses.detect import FaceDetector
from glasses.images import ImageError, load_image
from training.crop_store import CropStore, Entry, content_key

DEFAULT_CACHE_DIR = Path(".cache/crops")
# Part of the cache key, so crops from another detector are never reused: the code and the network that find
# the faces (a change to either may move a box).
DETECTOR_FILES = tuple(Path(__file__).resolve().parent.parent / "glasses" / name
                  for name in ("detect.py", "blazeface.py", "crop.py"))
DETECTOR_NAME = "BlazeFace"            # as the model card names it


@dataclass
class Crops:
    """Row i of each array belongs to manifest row i. `status`: "ok", "no_face" or an error reason."""

    images: np.ndarray      # (N, S, S, 3) uint8, zeros where there is no face
    face_prob: np.ndarray   # (N,) float32, 0 where there is no face
    status: np.ndarray      # (N,) str

    @property
    def found(self) -> np.ndarray:
        return self.status == "ok"


_worker_detector: FaceDetector | None = None
_worker_settings: dict = {}


def _init_worker(settings: dict) -> None:
    global _worker_detector, _worker_settings
    _worker_settings = settings
    _worker_detector = FaceDetector(min_face_size=settings["min_face_size"], max_side=settings["max_side"], threads=1)


def _crop_one(path: str) -> tuple[np.ndarray | None, float, str]:
    size, margin = _worker_settings["size"], _worker_settings["margin"]
    try:
        image = load_image(path)
    except ImageError as err:
        return None, 0.0, err.reason
    faces = _worker_detector.detect(image)
    if not faces:
        return None, 0.0, "no_face"
    return np.asarray(crop_face(image, faces[0].box, size, margin)), faces[0].prob, "ok"


def detector_fingerprint() -> str:
    """SHA-1 of the detector's code and network file: a change to either rebuilds the crops."""
    from glasses.blazeface import SHORT_RANGE, WEIGHTS_DIR

    digest = hashlib.sha1()
    for path in (*DETECTOR_FILES, WEIGHTS_DIR / SHORT_RANGE.file):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def load_or_build(rows: list[dict], root: Path, size: int, margin: float,
                  min_face_size: int = DEFAULTS.min_face_size, max_side: int = DEFAULTS.max_side, workers: int = 2,
                  cache_dir: Path = DEFAULT_CACHE_DIR) -> Crops:
    """Crops of the largest face in each row's image, in row order: each image's from the cache when neither
    its bytes nor anything that shapes a crop changed, the others detected now and cached as they come."""
    settings = {"detector": detector_fingerprint(), "size": size, "margin": margin, "min_face_size": min_face_size,
                "max_side": max_side}
    store = CropStore(cache_dir, settings)
    paths = [str(root / row["path"]) for row in rows]
    keys = [content_key(path) for path in paths]
    images = np.zeros((len(paths), size, size, 3), np.uint8)
    face_prob = np.zeros(len(paths), np.float32)
    status = [""] * len(paths)

    def fill(i: int, entry: Entry) -> None:
        if entry.crop is not None:
            images[i] = entry.crop
        face_prob[i], status[i] = entry.face_prob, entry.status

    missing = []
    for i, key in enumerate(keys):
        entry = store.get(key)
        if entry is None:
            missing.append(i)
        else:
            fill(i, entry)
    detected = detect_faces([paths[i] for i in missing], settings, workers)
    for i, entry in zip(missing, tqdm(detected, total=len(missing), desc="face crops", disable=not missing)):
        fill(i, entry)
        store.put(keys[i], entry)
    return Crops(images, face_prob, np.array(status))


def detect_faces(paths: list[str], settings: dict, workers: int) -> Iterator[Entry]:
    """The crop of the largest face in each of `paths`, in order, from `workers` processes (none started when
    there is nothing to detect)."""
    if not paths:
        return
    with multiprocessing.get_context("spawn").Pool(workers, _init_worker, (settings,)) as pool:
        for crop, prob, state in pool.imap(_crop_one, paths, chunksize=8):
            yield Entry(crop, prob, state)
