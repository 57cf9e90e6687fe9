"""The corrected manifest: the reviewers' decisions applied, in the format training reads as it is.

Per row, by the rule in relabel.outcome: kept and unreviewed rows are written unchanged, flipped rows with
their new label, every other column untouched. No-face rows are dropped; unsure and disputed rows are held
out of training. Each row left out is listed, with the reason and who decided what, in a second file beside
the output (`corrected.held_out.csv` for `corrected.csv`), so nothing disappears unexplained.
"""
from __future__ import annotations

import csv
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from relabel import outcome
from relabel.manifest import Manifest
from relabel.store import Decision

LEFT_OUT = {outcome.NO_FACE: "no face / not a person: dropped",
            outcome.UNSURE: "a reviewer is unsure: held out of training",
            outcome.DISPUTED: "reviewers disagree: held out until they agree"}


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


def held_out_path(out: Path) -> Path:
    return out.with_name(f"{out.stem}.held_out{out.suffix or '.csv'}")


def write_corrected(corrected: Corrected, out: Path) -> Path:
    """Write the manifest to `out` and the held-out list beside it (returned); each file appears whole
    or not at all, so an interrupted export never leaves a half-written manifest for training to read."""
    listed = [*corrected.columns, "reason", "decisions"]
    for rows, path, columns in ((corrected.rows, out, corrected.columns),
                                (corrected.held_out, held_out_path(out), listed)):
        partial = path.with_name(f".{path.name}.partial")
        try:
            with open(partial, "w", newline="", encoding="utf-8") as f:
                writer = csv.DictWriter(f, fieldnames=columns)
                writer.writeheader()
                writer.writerows(rows)
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)
    return held_out_path(out)
