"""Decisions made elsewhere (a spreadsheet, another tool) merged into the review database.

The CSV has `path,label,reviewer`: `path` as in the manifest; `label` the label the reviewer gives (0 or 1;
a keep or a flip against the manifest's label), or `no_face`, or `unsure`. The whole file is checked before
anything is written, then written in one transaction: every row or, on any problem, none. Each row becomes
a decision of its reviewer, appended like the app's, never replacing another reviewer's (disagreements show
as disputes); a row that repeats what its reviewer already stands by is passed over, so importing the same
file twice records nothing the second time.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from glasses.manifest import DECISION_COLUMNS, TOO_MANY_VALUES, CsvError, Manifest, read_decision_rows, refuse
from relabel.outcome import verdict
from relabel.store import FLIP, KEEP, NO_FACE, UNSURE, NewDecision, ReviewStore, reviewer_name, reviewer_problem

GIVEN = {"0": 0, "1": 1, NO_FACE: NO_FACE, UNSURE: UNSURE}


class DecisionsError(CsvError):
    """A decisions CSV that cannot be imported; the message names the file and each offending row."""


@dataclass(frozen=True)
class Imported:
    recorded: int   # new decisions written
    repeated: int   # rows its reviewer already stood by, passed over


def read_decisions(path: Path, manifest: Manifest) -> list[NewDecision]:
    """The CSV's rows as decisions on `manifest`'s rows; raises DecisionsError listing every problem."""
    numbered = read_decision_rows(path, DecisionsError)
    labels = {row["path"]: row["label"] for row in manifest.rows}
    decisions, problems, first_line = [], [], {}
    for line, row in numbered:
        image, given, reviewer = (row.get(c) or "" for c in DECISION_COLUMNS)
        reviewer = reviewer_name(reviewer)
        problem = None
        if None in row:
            problem = TOO_MANY_VALUES
        elif image not in labels:
            problem = f"{image or '(empty path)'} is not in the manifest {manifest.path}"
        elif given not in GIVEN:
            problem = f"label {given!r} is not one of {', '.join(GIVEN)}"
        elif reason := reviewer_problem(reviewer):
            problem = reason
        elif (image, reviewer) in first_line:
            problem = f"{reviewer} decided {image} already on line {first_line[image, reviewer]}"
        if problem:
            problems.append(f"line {line}: {problem}")
            continue
        first_line[image, reviewer] = line
        old = labels[image]
        kind = GIVEN[given] if GIVEN[given] in (NO_FACE, UNSURE) else (KEEP if GIVEN[given] == old else FLIP)
        decisions.append(NewDecision(image, reviewer, kind, old))
    refuse(path, problems, DecisionsError, "cannot be imported (nothing was imported)")
    return decisions


def import_decisions(path: Path, manifest: Manifest, store: ReviewStore) -> Imported:
    decisions = read_decisions(path, manifest)
    standing = {(d.path, d.reviewer): verdict(d) for ds in store.current().values() for d in ds}
    new = [d for d in decisions if standing.get((d.path, d.reviewer)) != verdict(d)]
    store.record_many(new, origin=f"import {Path(path).name}")
    return Imported(recorded=len(new), repeated=len(decisions) - len(new))
