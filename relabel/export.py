"""The corrected manifest: the reviewers' decisions applied, in the format training reads as it is.

Per row, by the rule in relabel.outcome: kept and unreviewed rows are written unchanged, flipped rows with
their new label, every other column untouched. No-face rows are dropped; unsure and disputed rows are held
out of training. Each row left out is listed, with the reason and who decided what, in a second file beside
the output (`corrected.held_out.csv` for `corrected.csv`), so nothing disappears unexplained.
"""
from __future__ import annotations

import csv
import os
import shutil
import uuid
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from glasses.errors import GlassesError
from glasses.manifest import DECISION_COLUMNS, Manifest
from relabel import outcome
from relabel.store import FLIP, KEEP, SKIP, Decision

LEFT_OUT = {outcome.NO_FACE: "no face / not a person: dropped",
            outcome.UNSURE: "a reviewer is unsure: held out of training",
            outcome.DISPUTED: "reviewers disagree: held out until they agree"}


class ExportError(GlassesError, RuntimeError):
    """An export file cannot be written; the message names it. Both old files were left as they were."""


@dataclass
class Corrected:
    columns: list[str]      # the manifest's, in its order
    rows: list[dict]        # the corrected manifest
    held_out: list[dict]    # rows left out, with `reason` and `decisions` columns
    counts: dict[str, int]  # rows per status, and decisions about images not in this manifest


def corrected_manifest(manifest: Manifest, current: dict[str, list[Decision]]) -> Corrected:
    """Apply `current` (ReviewStore.current()) to the manifest's rows."""
    rows, held_out = [], []
    counts = Counter({status: 0 for status in outcome.STATUSES if status != outcome.SKIPPED})  # no reviewer here
    for row in manifest.rows:
        decisions = current.get(row["path"], [])
        status = outcome.status(row["label"], decisions)
        counts[status] += 1
        if status in LEFT_OUT:
            held_out.append(dict(row, reason=status, decisions=outcome.describe(decisions)))
        else:
            rows.append(dict(row, label=1 - row["label"]) if status == outcome.FLIPPED else dict(row))
    in_manifest = {row["path"] for row in manifest.rows}
    counts["decided_images_not_in_manifest"] = sum(path not in in_manifest for path in current)
    counts = {"rows": len(manifest.rows), "written": len(rows), **counts}
    return Corrected(list(manifest.rows[0]), rows, held_out, counts)


WRITTEN_DECISION_COLUMNS = (*DECISION_COLUMNS, "decided_at")   # what `python -m relabel import` reads, and when


def standing_decisions(manifest: Manifest, current: dict[str, list[Decision]]) -> tuple[list[dict], int]:
    """Each reviewer's standing decision on each of the manifest's rows as WRITTEN_DECISION_COLUMNS rows, oldest first:
    label 0 or 1 for a kept or flipped label (the label the reviewer gave), no_face or unsure; skips are left out.
    Also the number of decided images that are not in the manifest."""
    in_manifest = {row["path"] for row in manifest.rows}
    decisions = sorted((d for path, ds in current.items() if path in in_manifest for d in ds
                        if d.kind != SKIP), key=lambda d: d.id)
    rows = [{"path": d.path, "label": d.new_label if d.kind in (KEEP, FLIP) else d.kind, "reviewer": d.reviewer,
             "decided_at": d.decided_at} for d in decisions]
    return rows, sum(path not in in_manifest for path in current)


def write_decisions(rows: list[dict], out: Path) -> None:
    """Write the decisions CSV whole or not at all (the old file stays where writing fails)."""
    with _temporaries() as temporaries, _naming(out):
        new_out = _beside(out, "partial", temporaries)
        _write_csv(new_out, rows, list(WRITTEN_DECISION_COLUMNS))
        os.replace(new_out, out)


def overwritten_input(outputs: dict[str, Path], manifest: Path, db: Path) -> str | None:
    """Why writing `outputs` (by the name the user gave each: an option, a flag) would replace the manifest
    being read or the review database (every decision) with its WAL files, or None when none would. Checked
    before anything is opened, so nothing is written."""
    inputs = {Path(f"{path}{suffix}").resolve(): "the review database"
              for path in (db, Path(db).resolve()) for suffix in ("", "-wal", "-shm")}  # WAL beside a link or target
    inputs[Path(manifest).resolve()] = "the manifest it reads"
    for name, target in outputs.items():
        if Path(target).resolve() in inputs:
            return f"{name} {target} would overwrite {inputs[Path(target).resolve()]}; nothing was written"
    return None


def held_out_path(out: Path) -> Path:
    return out.with_name(f"{out.stem}.held_out{out.suffix or '.csv'}")


def write_corrected(corrected: Corrected, out: Path) -> Path:
    """Write the manifest to `out` and the held-out list beside it (returned), both whole or neither: an
    interrupted or failed export leaves the old pair as it was, never a manifest for training to read that
    is half-written or disagrees with its list. Raises ExportError naming the file that failed."""
    held_out = held_out_path(out)
    with _temporaries() as temporaries:
        with _naming(out):
            new_out = _beside(out, "partial", temporaries)
            _write_csv(new_out, corrected.rows, corrected.columns)
        with _naming(held_out):
            new_held_out = _beside(held_out, "partial", temporaries)
            _write_csv(new_held_out, corrected.held_out, [*corrected.columns, "reason", "decisions"])
            old_held_out = _beside(held_out, "previous", temporaries) if held_out.is_file() else None
            if old_held_out:
                shutil.copy2(held_out, old_held_out)
            os.replace(new_held_out, held_out)
        try:
            with _naming(out):
                os.replace(new_out, out)
        except ExportError:  # the list is put back as it was: the two files change together or not at all
            if old_held_out:
                os.replace(old_held_out, held_out)
            else:
                held_out.unlink()
            raise
    return held_out


@contextmanager
def _temporaries():
    """A list to add the names of temporary files to (_beside); whatever of them is left is removed on the way
    out, whether writing succeeded or failed."""
    temporaries: list[Path] = []
    try:
        yield temporaries
    finally:
        for temporary in temporaries:
            temporary.unlink(missing_ok=True)


def _beside(path: Path, what: str, temporaries: list[Path]) -> Path:
    """A name for a hidden file in `path`'s folder (added to `temporaries`, for removal), from which os.replace
    moves it into place at once. The name is unique, so two exports at once never write into or delete each
    other's files; the file is made by open(), so it gets the permissions any new file gets (mkstemp's 0600
    would shut the training job's user out)."""
    temporaries.append(path.with_name(f".{path.name}.{uuid.uuid4().hex}.{what}"))
    return temporaries[-1]


@contextmanager
def _naming(path: Path):
    """An OSError inside becomes an ExportError that names `path`, the file the user asked for."""
    try:
        yield
    except OSError as err:
        raise ExportError(f"cannot be written ({err.strerror or err}); the old export files were left as they "
                          f"were", path) from None


def _write_csv(path: Path, rows: list[dict], columns: list[str]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
