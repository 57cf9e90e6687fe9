"""Detect and crop every manifest image once, with the inference detector and crop, and cache the result.

The cache (`.cache/crops/`, never committed) is keyed by the image list and every setting that changes a
crop, so a changed detector or crop size recomputes instead of silently reusing stale faces. Images in which
no face is found, or which cannot be read, are kept in the arrays (flagged) so they are counted and reported.
"""
from __future__ import annotations

import hashlib
import json
import multiprocessing
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from glasses.crop import crop_face
from glasses.detect import FaceDetector
from glasses.images import ImageError, load_image

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


def load_or_build(rows: list[dict], root: Path, size: int, margin: float, min_face_size: int = 40,
                  max_side: int = 2048, workers: int = 2,
                  cache_dir: Path = DEFAULT_CACHE_DIR) -> Crops:
    """Crops of the largest face in each row's image, from cache when nothing that shapes them changed."""
    settings = {"detector": detector_fingerprint(), "size": size, "margin": margin, "min_face_size": min_face_size,
                "max_side": max_side}
    paths = [str(root / row["path"]) for row in rows]
    key = hashlib.sha1(json.dumps([settings, [row["path"] for row in rows]]).encode()).hexdigest()[:16]
    cache = cache_dir / f"{key}.npz"
    if cache.exists():
        with np.load(cache) as data:
            return Crops(data["images"], data["face_prob"], data["status"])
    images = np.zeros((len(paths), size, size, 3), np.uint8)
    face_prob = np.zeros(len(paths), np.float32)
    status = []
    with multiprocessing.get_context("spawn").Pool(workers, _init_worker, (settings,)) as pool:
        results = pool.imap(_crop_one, paths, chunksize=8)
        for i, (crop, prob, state) in enumerate(tqdm(results, total=len(paths), desc="face crops")):
            if crop is not None:
                images[i] = crop
            face_prob[i] = prob
            status.append(state)
    crops = Crops(images, face_prob, np.array(status))
    cache_dir.mkdir(parents=True, exist_ok=True)
    np.savez(cache, images=crops.images, face_prob=crops.face_prob, status=crops.status)
    return crops
