"""relabel.kappa and relabel.reviewer_stats: Cohen's kappa against values worked out by hand (and
scikit-learn's, where it is installed), each reviewer's pace, and each pair's agreement and disputes."""
from __future__ import annotations

import math

import pytest

from relabel.kappa import cohen_kappa
from relabel.reviewer_stats import BREAK_S, pair_agreements, per_minute, reviewer_stats
from relabel.store import FLIP, KEEP, NO_FACE, SKIP, NewDecision, ReviewStore


@pytest.mark.parametrize("first, second, expected", [
    # p_o = 3/4; margins (2, 2) and (1, 3): p_e = (2*1 + 2*3) / 16 = 1/2; kappa = (3/4 - 1/2) / (1/2)
    ([1, 1, 0, 0], [1, 0, 0, 0], 0.5),
    ([1, 0, 1, 0], [1, 0, 1, 0], 1.0),                  # full agreement
    ([1, 0], [0, 1], -1.0),                             # p_o = 0, p_e = 1/2
    # p_o = 5/6; margins a (1: 3, 0: 2, u: 1), b (1: 2, 0: 3, u: 1): p_e = (6 + 6 + 1) / 36 = 13/36;
    # kappa = (30/36 - 13/36) / (23/36) = 17/23
    ([1, 1, 1, 0, 0, "u"], [1, 1, 0, 0, 0, "u"], 17 / 23),
    # p_o = 1/2, every category at 1/2 for both: p_e = 1/2, kappa 0: no better than chance
    ([1, 1, 0, 0], [1, 0, 1, 0], 0.0),
])
def test_kappa_matches_the_hand_computed_value(first, second, expected):
    assert cohen_kappa(first, second) == pytest.approx(expected)


def test_kappa_agrees_with_scikit_learn():
    metrics = pytest.importorskip("sklearn.metrics")
    first = [1, 0, 1, 1, 0, "unsure", 1, 0, "no_face", 1]
    second = [1, 1, 1, 0, 0, "unsure", 1, "no_face", "no_face", 1]
    as_text = [str(v) for v in first], [str(v) for v in second]
    assert cohen_kappa(first, second) == pytest.approx(metrics.cohen_kappa_score(*as_text))


def test_kappa_of_one_category_throughout_is_undefined_and_bad_input_refused():
    assert math.isnan(cohen_kappa([1, 1, 1], [1, 1, 1]))
    with pytest.raises(ValueError, match="different numbers"):
        cohen_kappa([1, 0], [1])
    with pytest.raises(ValueError, match="at least one row"):
        cohen_kappa([], [])


def test_pace_counts_the_gaps_between_decisions_leaving_breaks_out():
    from datetime import datetime, timedelta

    start = datetime(2026, 12, 1, 9)
    times = [start + timedelta(seconds=s) for s in (0, 10, 20, 30, 30 + BREAK_S + 1, 30 + BREAK_S + 11)]
    assert per_minute(times) == pytest.approx(5 / 40 * 60)   # 5 decisions after the first, 40 s of work
    assert per_minute(times[:1]) is None and per_minute([start, start]) is None
    pages = [start] * 24 + [start + timedelta(seconds=12)] * 24 + [start + timedelta(seconds=24)] * 24
    assert per_minute(pages) == pytest.approx(48 / 24 * 60)   # two pages of 24 after the first, 24 s apart


def test_reviewer_stats_and_pair_agreement_from_a_store(tmp_path):
    store = ReviewStore(tmp_path / "reviews.sqlite")
    for path, label, ana, ben in [("a.png", 1, KEEP, KEEP), ("b.png", 0, FLIP, KEEP), ("c.png", 0, KEEP, KEEP),
                                  ("d.png", 1, NO_FACE, NO_FACE), ("e.png", 1, SKIP, FLIP)]:
        store.record(NewDecision(path, "ana", ana, label))
        store.record(NewDecision(path, "ben", ben, label))
    store.record_many([NewDecision("a.png", "cem", KEEP, 1)], origin="import decisions.csv")
    stats = {s.reviewer: s for s in reviewer_stats(store.history(), store.current())}
    assert {name: (s.decisions, s.made_in_app) for name, s in stats.items()} == {
        "ana": (4, 5), "ben": (5, 5), "cem": (1, 0)}   # ana's skip is no standing decision; cem's came by import
    assert stats["cem"].per_minute is None and stats["ana"].per_minute > 0
    pairs = {(p.first, p.second): p for p in pair_agreements(store.current())}
    ana_ben = pairs[("ana", "ben")]
    # rows a-d (e: ana skipped): verdicts ana (1, 1, 0, no_face), ben (1, 0, 0, no_face)
    assert (ana_ben.both, ana_ben.agreed, ana_ben.disputed) == (4, 3, ("b.png",))
    assert ana_ben.kappa == pytest.approx(cohen_kappa(["1", "1", "0", "n"], ["1", "0", "0", "n"]))
    assert pairs[("ana", "cem")].kappa is None   # one row, one answer: undefined
    assert set(pairs) == {("ana", "ben"), ("ana", "cem"), ("ben", "cem")}


def test_a_page_recorded_at_once_is_one_moment_of_the_reviewers_pace(tmp_path, monkeypatch):
    """A grid page's decisions share their time, so one page alone gives no pace, not thousands a minute (the
    clock here moves a millisecond at each reading, as it may between a page's rows)."""
    from datetime import datetime, timedelta, timezone

    import relabel.store

    clock = iter(datetime(2026, 12, 1, 9, tzinfo=timezone.utc) + timedelta(milliseconds=i) for i in range(1000))
    monkeypatch.setattr(relabel.store, "_now", lambda: next(clock).isoformat(timespec="milliseconds"))
    store = ReviewStore(tmp_path / "reviews.sqlite")
    page = store.record_many([NewDecision(f"{i}.png", "ana", KEEP, 0) for i in range(24)], origin="app")
    assert len({d.decided_at for d in page}) == 1
    [ana] = reviewer_stats(store.history(), store.current())
    assert (ana.made_in_app, ana.per_minute) == (24, None)
