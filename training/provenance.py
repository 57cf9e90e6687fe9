"""Where a model's labels came from, for its card: the manifest it learnt (its hash), the reviewers' decisions
that made that manifest from the raw labels, and the commit of the code.

With the decisions file (`python -m relabel decisions`) and the raw labels the importers read, anyone can
rebuild the manifest (`python -m relabel import`, then `export`) and check it against the hash recorded here.
"""
from __future__ import annotations

import hashlib
import subprocess
from collections import Counter
from pathlib import Path

from glasses.manifest import CsvError, read_decision_rows
from glasses.weights import file_sha256

REPO = Path(__file__).resolve().parent.parent


class ProvenanceError(CsvError):
    """A decisions file that cannot be counted; the message names it and says why."""


def read_decisions(path: Path) -> list[dict]:
    """The rows of a decisions CSV (python -m relabel decisions); raises ProvenanceError naming the file."""
    return [row for _, row in read_decision_rows(path, ProvenanceError)]


def git_commit(repo: Path = REPO) -> dict | None:
    """The checked-out commit and whether tracked files differ from it; None outside a git checkout."""
    try:
        head = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True,
                              check=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": head, "uncommitted_changes": bool(dirty)}


def review_counts(decisions: Path, raw_rows: list[dict], manifest_rows: list[dict]) -> dict:
    """Per source and in all: images reviewed, labels flipped (to glasses and to no glasses), images dropped
    (every reviewer said no face) and held out (unsure, or reviewers disagreeing: in the raw manifest, not in
    the corrected one), from the decisions CSV (path,label,reviewer) against the raw labels. `manifest_rows`:
    every row of the corrected manifest, whatever part of it a run trained on."""
    raw = {row["path"]: row for row in raw_rows}
    trained = {row["path"]: int(row["label"]) for row in manifest_rows}
    rows = read_decisions(decisions)
    reviewers = Counter(row["reviewer"] for row in rows)
    by_path: dict[str, list[str]] = {}
    for row in rows:
        by_path.setdefault(row["path"], []).append(row["label"])
    counts: dict[str, Counter] = {}
    for path, labels in by_path.items():
        if path not in raw:
            continue
        source, old = raw[path]["source"], int(raw[path]["label"])
        for key in (source, "all"):
            c = counts.setdefault(key, Counter())
            c["reviewed"] += 1
            if path in trained:
                if trained[path] != old:
                    c["flipped_to_glasses" if trained[path] == 1 else "flipped_to_no_glasses"] += 1
            elif set(labels) == {"no_face"}:
                c["dropped_no_face"] += 1
            else:
                c["held_out"] += 1
    return {"file": str(decisions), "sha256": file_sha256(Path(decisions)), "decisions": len(rows),
            "reviewers": dict(sorted(reviewers.items())),
            "by_source": {key: dict(counts[key]) for key in sorted(counts, key=lambda k: (k == "all", k))}}


def provenance(manifest: Path | None, decisions: Path | None, raw_rows: list[dict], manifest_rows: list[dict],
               trained_rows: int) -> dict:
    """The card's `provenance`: the manifest (its file, hash and rows, or "raw labels" where none was given) and
    how many of its rows the run trained, validated and tested on (--sources and --limit choose fewer), the
    review counts where a decisions file is given, and the commit."""
    return {
        "manifest": ({"file": str(manifest), "sha256": file_sha256(Path(manifest)), "rows": len(manifest_rows),
                      "rows_used": trained_rows}
                     if manifest else {"file": None, "rows_sha256": rows_hash(manifest_rows),
                                       "rows": len(manifest_rows), "rows_used": trained_rows,
                                       "labels": "raw, as the importers read them"}),
        "reviews": review_counts(decisions, raw_rows, manifest_rows) if decisions else None,
        "code": git_commit(),
    }


def rows_hash(rows: list[dict]) -> str:
    """A hash of the rows themselves (path, label, split, in order), for a manifest built in memory."""
    text = "\n".join(f"{r['path']},{r['label']},{r['split']}" for r in rows)
    return hashlib.sha256(text.encode()).hexdigest()
