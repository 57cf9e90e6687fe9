"""Small data folders and manifests for the relabel tests: real files on disk, made here, no photos needed."""
from __future__ import annotations

import csv
from pathlib import Path

from PIL import Image

COLUMNS = ["path", "label", "source", "group", "split"]


def write_csv(path: Path, rows: list[dict], columns: list[str] | None = None) -> Path:
    columns = columns or list(dict.fromkeys(key for row in rows for key in row))
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def data_folder(root: Path, count: int) -> Path:
    """`count` small grey PNGs under root/data/imgs/: img00.png, img01.png, ..."""
    folder = root / "data" / "imgs"
    folder.mkdir(parents=True)
    for i in range(count):
        Image.new("L", (8, 8), i).save(folder / f"img{i:02d}.png")
    return root / "data"


def manifest_rows(labels: list[int], pred_prob: list | None = None, sources: list[str] | None = None) -> list[dict]:
    rows = [{"path": f"imgs/img{i:02d}.png", "label": label, "source": (sources or ["olivetti"] * len(labels))[i],
             "group": f"person{i}", "split": "train"} for i, label in enumerate(labels)]
    if pred_prob is not None:
        for row, p in zip(rows, pred_prob):
            row["pred_prob"] = "" if p is None else p
    return rows
