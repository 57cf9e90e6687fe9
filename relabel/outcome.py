"""What the reviewers' standing decisions on one image add up to: the one rule the export, the review queue
and the progress counts share.

Each reviewer's latest decision counts (an undone one does not; a skip is no opinion). Reviewers who agree
decide the row: a label (keep or flip), no face, or unsure. When any two disagree, the row is disputed:
it is held out of training and listed with every reviewer's decision until they agree, by one of them
changing their own decision. No reviewer's decision silently beats another's, however late it came.
Labels are compared, not keep/flip, so decisions made on a manifest before or after an export agree.
"""
from __future__ import annotations

from relabel.store import FLIP, KEEP, NO_FACE, SKIP, UNSURE, Decision, NewDecision, new_label

UNREVIEWED, SKIPPED, KEPT, FLIPPED, DISPUTED = "unreviewed", "skipped", "kept", "flipped", "disputed"
STATUSES = (UNREVIEWED, SKIPPED, KEPT, FLIPPED, NO_FACE, UNSURE, DISPUTED)
REVIEWED = frozenset({KEPT, FLIPPED, NO_FACE, UNSURE, DISPUTED})


def verdict(decision: Decision | NewDecision) -> int | str:
    """The label a keep or flip gives the image, else the decision itself (no_face, unsure)."""
    return new_label(decision.kind, decision.old_label) if decision.kind in (KEEP, FLIP) else decision.kind


def status(label: int, decisions: list[Decision], reviewer: str | None = None) -> str:
    """The row's status given its manifest `label` and the reviewers' standing decisions on it. `skipped`
    means that `reviewer` passed it by and nobody has decided it: it leaves that reviewer's to-do list only."""
    opinions = {verdict(d) for d in decisions if d.kind != SKIP}
    if not opinions:
        return SKIPPED if any(d.reviewer == reviewer for d in decisions) else UNREVIEWED
    if len(opinions) > 1:
        return DISPUTED
    agreed = opinions.pop()
    if agreed in (NO_FACE, UNSURE):
        return agreed
    return KEPT if agreed == label else FLIPPED


def describe(decisions: list[Decision]) -> str:
    """`alice=1; bob=0; carol=no_face`: who gave which label (or no_face, unsure), for the held-out list."""
    return "; ".join(f"{d.reviewer}={verdict(d)}" for d in decisions if d.kind != SKIP)
