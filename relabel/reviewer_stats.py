"""Per-reviewer figures for the app's Relabel tab: how many decisions each reviewer stands by, how fast they
decide, and how far each pair of reviewers agrees on the rows both decided (Cohen's kappa, relabel.kappa),
with the rows they disagree on, so that a dispute is one click from being looked at again.

Speed counts the decisions made in the app (imports carry one time for a whole file): the decisions made after
a reviewer's first moment (a grid page's decisions share one, ReviewStore.record_many), over the time between
them, leaving out breaks (a gap longer than BREAK_S), so a lunch hour does not drag the rate down. Agreement
compares standing decisions as outcome.verdict gives them (the label given, no_face or unsure); skips are no
opinion and count for neither.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from itertools import combinations, pairwise

from relabel import outcome
from relabel.kappa import cohen_kappa
from relabel.store import SKIP, UNDO, Decision

BREAK_S = 300.0   # a gap between two decisions longer than this is a break, not time spent deciding


@dataclass(frozen=True)
class ReviewerStats:
    reviewer: str
    decisions: int               # images on which the reviewer stands by a decision (skips aside)
    made_in_app: int             # decisions recorded in the app, skips included, undos aside
    per_minute: float | None     # decisions a minute of work in the app; None with fewer than two


@dataclass(frozen=True)
class PairAgreement:
    first: str
    second: str
    both: int                    # rows both reviewers decided
    agreed: int                  # of them, rows they decided alike
    kappa: float | None          # None where undefined (one category throughout)
    disputed: tuple[str, ...]    # paths they decided differently, most recently decided last


def reviewer_stats(history: list[dict], current: dict[str, list[Decision]]) -> list[ReviewerStats]:
    """One entry per reviewer, by name. `history`: ReviewStore.history(); `current`: ReviewStore.current()."""
    standing: dict[str, int] = {}
    for decisions in current.values():
        for d in decisions:
            if d.kind != SKIP:
                standing[d.reviewer] = standing.get(d.reviewer, 0) + 1
    times: dict[str, list[datetime]] = {}
    for row in history:
        if row["origin"] == "app" and row["kind"] != UNDO:
            times.setdefault(row["reviewer"], []).append(datetime.fromisoformat(row["decided_at"]))
    return [ReviewerStats(name, standing.get(name, 0), len(times.get(name, [])), per_minute(times.get(name, [])))
            for name in sorted({*standing, *times})]


def per_minute(times: list[datetime]) -> float | None:
    """Decisions a minute: those made after the first moment (a page of the grid records its decisions at one
    moment), over the time between them, breaks left out; None before there is such time."""
    times = sorted(times)
    working = sum(gap for gap in ((b - a).total_seconds() for a, b in pairwise(times)) if gap <= BREAK_S)
    if working <= 0:
        return None
    return sum(t > times[0] for t in times) / working * 60


def pair_agreements(current: dict[str, list[Decision]]) -> list[PairAgreement]:
    """Every pair of reviewers who both decided at least one row, by name."""
    verdicts: dict[str, dict[str, tuple[int, int | str]]] = {}   # reviewer -> path -> (decision id, verdict)
    for path, decisions in current.items():
        for d in decisions:
            if d.kind != SKIP:
                verdicts.setdefault(d.reviewer, {})[path] = (d.id, outcome.verdict(d))
    pairs = []
    for first, second in combinations(sorted(verdicts), 2):
        shared = sorted(verdicts[first].keys() & verdicts[second].keys(),
                        key=lambda p: max(verdicts[first][p][0], verdicts[second][p][0]))
        if not shared:
            continue
        a = [str(verdicts[first][p][1]) for p in shared]
        b = [str(verdicts[second][p][1]) for p in shared]
        kappa = cohen_kappa(a, b)
        pairs.append(PairAgreement(first, second, len(shared), sum(x == y for x, y in zip(a, b)),
                                   None if math.isnan(kappa) else kappa,
                                   tuple(p for p, x, y in zip(shared, a, b) if x != y)))
    return pairs
