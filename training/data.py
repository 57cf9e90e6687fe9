"""From a manifest to tensors: the rows, their cached face crops, datasets per split, and augmentations.

Every training entry point (the shipped student, the teacher, the k-fold out-of-fold run) reads its data
through `prepare`, so they all see the same rows, crops and splits.
"""
from __future__ import annotations

import argparse
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset
from torchvision.transforms import v2

from glasses.crop import DEFAULT_MARGIN
from glasses.errors import GlassesError
from glasses.labels import DEFAULT_ATTRIBUTE, LabelNameError, LabelNames, names_for
from glasses.manifest import DEFAULT_DATA, Manifest, ManifestError, load_manifest
from training import crops as crop_cache
from training.sources import IMPORTERS, UnknownAttributeError, build_manifest


class TrainingSetupError(GlassesError, ValueError):
    """A training run that cannot start (or resume) as asked: an unknown source, a bad manifest, a checkpoint of
    another run. Raised before any time is spent, so the command's main() exits with the reason."""


class LowResolution(torch.nn.Module):
    """A crop as a camera of lower resolution gives it: shrunk by a random factor in `factors`, then enlarged
    back (the detector's crop of a small face is enlarged the same way)."""

    def __init__(self, factors: tuple[float, float] = (1.5, 4.0)):
        super().__init__()
        self.factors = factors

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        size = image.shape[-2:]
        factor = float(torch.empty(1).uniform_(*self.factors))
        small = [max(8, round(side / factor)) for side in size]
        return v2.functional.resize(v2.functional.resize(image, small, antialias=True), list(size), antialias=False)


def augmentations() -> v2.Compose:
    """What real photos vary in: pose, lighting (low light too), colour or none, resolution, focus,
    compression, sensor noise, things in front. training/robustness.py measures the same kinds of change."""
    return v2.Compose([
        v2.RandomHorizontalFlip(),
        v2.RandomAffine(degrees=10, translate=(0.05, 0.05), scale=(0.9, 1.1)),
        v2.ColorJitter(brightness=0.4, contrast=0.4, saturation=0.3, hue=0.03),
        v2.RandomApply([v2.ColorJitter(brightness=(0.25, 0.6))], p=0.15),
        v2.RandomGrayscale(p=0.2),
        v2.RandomApply([LowResolution()], p=0.2),
        v2.RandomApply([v2.GaussianBlur(5, sigma=(0.1, 1.5))], p=0.2),
        v2.RandomApply([v2.JPEG(quality=(20, 90))], p=0.3),
        v2.ToDtype(torch.float32, scale=True),
        v2.RandomApply([v2.GaussianNoise(sigma=0.05)], p=0.2),
        v2.RandomErasing(p=0.2, scale=(0.02, 0.08)),
    ])


class CropDataset(Dataset):
    """(image float 0..1 CHW, hard label, soft target). The soft target is a teacher's probability where
    one is given, else the label itself, so the same loss serves plain and distilled training."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, transform=None, soft: np.ndarray | None = None):
        self.images = torch.from_numpy(images).permute(0, 3, 1, 2)  # uint8 NCHW, a view, not a copy
        self.labels = torch.from_numpy(labels.astype(np.float32))
        self.soft = self.labels if soft is None else torch.from_numpy(soft.astype(np.float32))
        self.transform = transform or v2.ToDtype(torch.float32, scale=True)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i):
        return self.transform(self.images[i]), self.labels[i], self.soft[i]


def select(rows: list[dict], limit: int | None) -> list[dict]:
    """At most `limit` rows per source and split, half of each label where there are enough (smoke runs)."""
    if limit is None:
        return rows
    taken = Counter()
    chosen = []
    for row in rows:
        key = (row["source"], row["split"], row["label"])
        if taken[key] < (limit + 1) // 2:
            taken[key] += 1
            chosen.append(row)
    return chosen


@dataclass
class Prepared:
    """Manifest rows and their crops, aligned: index i of every array is row i."""

    rows: list[dict]
    crops: crop_cache.Crops
    size: int
    attribute: str = DEFAULT_ATTRIBUTE   # what `label` is of (glasses.labels)

    def column(self, name: str) -> np.ndarray:
        return np.array([row[name] for row in self.rows])

    @property
    def labels(self) -> np.ndarray:
        return self.column("label").astype(int)

    def mask(self, split: str) -> np.ndarray:
        """Rows of `split` whose face was found: the ones that can be trained or scored."""
        return (self.column("split") == split) & self.crops.found

    def dataset(self, rows: np.ndarray, transform=None, soft: np.ndarray | None = None) -> CropDataset:
        """The crops of `rows` (a boolean mask, or row indices, which may repeat)."""
        return CropDataset(self.crops.images[rows], self.labels[rows], transform,
                           None if soft is None else soft[rows])

    def oversampled(self, mask: np.ndarray, min_share: float) -> np.ndarray:
        """Row indices of `mask`, with each source that makes up less than `min_share` of them repeated until
        it does: the small sources (grey studio photos, profile views, dark sunglasses) are otherwise a rounding
        error next to CelebA's 12,000 faces, and the model never learns them."""
        rows = np.flatnonzero(mask)
        sources = self.column("source")[rows]
        parts = []
        for src in sorted(set(sources)):
            chosen = rows[sources == src]
            parts.append(np.tile(chosen, max(1, int(np.ceil(min_share * len(rows) / len(chosen))))))
        return np.sort(np.concatenate(parts)) if parts else rows

    def detection_counts(self) -> dict[str, dict[str, int]]:
        """Per source, how many images gave a face and why the others did not."""
        sources = self.column("source")
        return {src: dict(Counter(self.crops.status[sources == src].tolist())) for src in sorted(set(sources))}


def prepare(data: Path, manifest: Path | Manifest | None, sources: list[str] | None, limit: int | None, size: int,
            workers: int, cache_dir: Path, attribute: str | None = None) -> Prepared:
    """The manifest (given, e.g. corrected by relabel, as a path or as the Manifest a caller already read, or
    built by the importers) and its cached crops.
    `sources` keeps only the rows of those sources; None keeps every row of a given manifest (a team's own
    photos too) and builds one from every importer. `attribute` (default: the given manifest's, else
    Eyeglasses) is what the labels are of: the importers read that column, leaving out sources without it.
    Raises TrainingSetupError naming what cannot be used."""
    if manifest:
        given = manifest if isinstance(manifest, Manifest) else _given_manifest(manifest, data)
        rows = given.rows
        attribute = attribute_of_rows(attribute, given)
    else:
        attribute = attribute or DEFAULT_ATTRIBUTE
        try:
            rows = build_manifest(data, _importers(sources), attribute)
        except UnknownAttributeError as err:
            raise TrainingSetupError(f"--attribute: {err}") from err
    if manifest and sources:
        absent = sorted(set(sources) - {row["source"] for row in rows})
        if absent:
            raise TrainingSetupError(f"--sources {' '.join(absent)}: no row of {given.path} has that source")
        rows = [row for row in rows if row["source"] in sources]
    rows = select(rows, limit)
    crops = crop_cache.load_or_build(rows, data, size, DEFAULT_MARGIN, workers=workers, cache_dir=cache_dir)
    return Prepared(rows, crops, size, attribute)


def _given_manifest(path: Path, data: Path) -> Manifest:
    """A manifest someone wrote (the relabel export, a team's own), checked as the relabel workflow checks it:
    every bad row (a path out of the data folder or missing, a label not 0/1, an unknown split, the same image
    twice) named by line, and nothing trained, rather than a traceback halfway."""
    try:
        return load_manifest(path, data)
    except ManifestError as err:
        raise TrainingSetupError(f"cannot train on {err}") from err


def given_manifest(args: argparse.Namespace) -> Manifest | None:
    """The manifest --manifest names, checked (TrainingSetupError naming every bad row), or None."""
    return _given_manifest(args.manifest, args.data) if args.manifest else None


def attribute_of_rows(asked: str | None, manifest: Manifest | None) -> str:
    """The attribute a run trains: the given manifest's (its `attribute` column; a manifest without one is of
    Eyeglasses), else `asked` (--attribute), else Eyeglasses. Raises TrainingSetupError when --attribute names
    another than the manifest's: its labels are of the one it says, and a model trained on them under another
    name would be wrong under it."""
    if manifest is None:
        return asked or DEFAULT_ATTRIBUTE
    recorded = manifest.attribute or DEFAULT_ATTRIBUTE
    if asked and asked != recorded:
        where = "its attribute column" if manifest.attribute else "it has no attribute column, so they are glasses'"
        raise TrainingSetupError(f"--attribute {asked}: the labels of {manifest.path} are of {recorded} ({where})")
    return recorded


def label_names(attribute: str, given: list[str] | None) -> LabelNames:
    """The label names a model of `attribute` records: `given` (--label-names POSITIVE NEGATIVE), else
    glasses.labels.names_for's. Raises TrainingSetupError for names that cannot be used."""
    try:
        return LabelNames(*given, attribute=attribute) if given else names_for(attribute)
    except LabelNameError as err:
        raise TrainingSetupError(f"--label-names: {err}" if given else
                                 f"--attribute {attribute}: {err}; name the labels with --label-names") from err


def _importers(sources: list[str] | None) -> list[str]:
    """The importers to build a manifest from: those named, or all of them."""
    unknown = sorted(set(sources or ()) - set(IMPORTERS))
    if unknown:
        raise TrainingSetupError(f"--sources {' '.join(unknown)}: no importer of that name (importers: "
                                 f"{', '.join(IMPORTERS)}; a manifest given with --manifest may hold any source)")
    return list(sources or IMPORTERS)


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags that choose the rows, their crops and the device: the same for every training entry point."""
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder the paths are under")
    parser.add_argument("--manifest", type=Path, help="manifest CSV (default: built from --data by the importers)")
    parser.add_argument("--sources", nargs="+", metavar="SOURCE",
                        help="use only the rows of these sources (default: every row of --manifest; without one, "
                             f"every importer: {', '.join(IMPORTERS)})")
    parser.add_argument("--attribute", metavar="NAME",
                        help="the binary attribute to learn: a CelebA-HQ column such as Wearing_Hat or Male; "
                             "sources that do not label it are left out (default: --manifest's attribute column, "
                             f"else {DEFAULT_ATTRIBUTE})")
    parser.add_argument("--label-names", nargs=2, metavar=("POSITIVE", "NEGATIVE"),
                        help="the model's names for a face with the attribute and one without (default: from the "
                             "attribute: Eyeglasses -> glasses no_glasses, Wearing_Hat -> hat no_hat)")
    parser.add_argument("--limit", type=int, help="use at most this many rows per source and split (smoke runs)")
    parser.add_argument("--size", type=int, default=96, help="face crop side in pixels")
    parser.add_argument("--workers", type=int, default=2, help="processes for face detection")
    parser.add_argument("--cache-dir", type=Path, default=crop_cache.DEFAULT_CACHE_DIR, help="face crop cache")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
