"""relabel.store: decisions are appended and kept, undo is an event, concurrent writers lose nothing, and a
database it cannot read is refused untouched."""
from __future__ import annotations

import sqlite3
import subprocess
import sys
import time

import pytest

from relabel.store import (FLIP, KEEP, NO_FACE, SCHEMA_VERSION, SKIP, UNDO, NewDecision, ReviewStore,
                           StoreError)
from tests.conftest import REPO


@pytest.fixture
def store(tmp_path):
    return ReviewStore(tmp_path / "reviews.sqlite")


def kinds(store, path):
    return {d.reviewer: d.kind for d in store.current().get(path, [])}


def test_a_new_database_is_in_wal_mode_with_the_schema_version(tmp_path, store):
    db = sqlite3.connect(store.path)
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert db.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)


def test_a_decision_is_stored_with_reviewer_time_and_labels(store):
    stored = store.record(NewDecision("a.png", " ana ", FLIP, 0))
    assert (stored.path, stored.reviewer, stored.kind, stored.old_label, stored.new_label, stored.origin) == \
        ("a.png", "ana", FLIP, 0, 1, "app")
    assert stored.decided_at.endswith("+00:00")
    assert ReviewStore(store.path).current()["a.png"] == [stored]   # another opening sees it: it is on disk


def test_each_reviewer_keeps_their_own_latest_decision(store):
    store.record(NewDecision("a.png", "ana", FLIP, 0))
    store.record(NewDecision("a.png", "ben", KEEP, 0))
    store.record(NewDecision("a.png", "ana", NO_FACE, 0))
    assert kinds(store, "a.png") == {"ana": NO_FACE, "ben": KEEP}
    assert len(store.history()) == 3  # nothing overwritten


def test_a_skip_does_not_withdraw_an_earlier_decision(store):
    store.record(NewDecision("a.png", "ana", FLIP, 0))
    store.record(NewDecision("a.png", "ana", SKIP, 0))
    store.record(NewDecision("b.png", "ana", SKIP, 1))
    assert kinds(store, "a.png") == {"ana": FLIP}
    assert kinds(store, "b.png") == {"ana": SKIP}


def test_undo_is_recorded_and_walks_back_one_decision_at_a_time(store):
    store.record(NewDecision("a.png", "ana", FLIP, 0))
    store.record(NewDecision("a.png", "ana", KEEP, 0))
    store.record(NewDecision("b.png", "ben", FLIP, 1))
    undone = store.undo_last("ana")
    assert (undone.path, undone.kind) == ("a.png", KEEP)
    assert kinds(store, "a.png") == {"ana": FLIP}
    assert store.undo_last("ana").kind == FLIP
    assert kinds(store, "a.png") == {} and kinds(store, "b.png") == {"ben": FLIP}  # ben's stays
    assert store.undo_last("ana") is None
    history = store.history()
    assert [row["kind"] for row in history] == [FLIP, KEEP, FLIP, UNDO, UNDO]
    assert [row["undoes"] for row in history[3:]] == [2, 1]



def test_a_chosen_decision_is_undone_by_a_row_naming_it_and_the_earlier_one_stands_again(store):
    first = store.record(NewDecision("a.png", "ana", FLIP, 0))
    second = store.record(NewDecision("a.png", "ana", KEEP, 0))
    other = store.record(NewDecision("b.png", "ana", FLIP, 1))
    assert store.undo([second.id], "ana") == [second]
    assert kinds(store, "a.png") == {"ana": FLIP} and kinds(store, "b.png") == {"ana": FLIP}
    assert store.undo([second.id, first.id], "ana") == [first]   # the one already undone is passed over
    assert kinds(store, "a.png") == {}
    assert store.undo_last("ana") == other                      # undo of the last still walks back from the top
    assert [(row["kind"], row["undoes"]) for row in store.history()[3:]] == [
        (UNDO, second.id), (UNDO, first.id), (UNDO, other.id)]
    assert len(store.history()) == 6   # nothing deleted


@pytest.mark.parametrize("chosen", ["ben's", "an undo row", "no such id", "not a number", "a superscript"])
def test_undoing_a_decision_that_is_not_the_reviewers_own_is_refused_and_writes_nothing(store, chosen):
    mine = store.record(NewDecision("a.png", "ana", FLIP, 0))
    bens = store.record(NewDecision("a.png", "ben", KEEP, 0))
    store.undo_last("ben")
    undo_row = len(store.history())
    ids = {"ben's": bens.id, "an undo row": undo_row, "no such id": 999, "not a number": "1; DROP TABLE",
           "a superscript": "\u00b2"}[chosen]
    before = store.history()
    with pytest.raises(ValueError, match="is not one of|a decision id is a whole number"):
        store.undo([mine.id, ids], "ana")
    assert store.history() == before


def test_recent_lists_the_reviewers_latest_decisions_newest_first_with_what_was_undone(store):
    decided = [store.record(NewDecision(f"{i}.png", "ana", KEEP, 0)) for i in range(4)]
    store.record(NewDecision("x.png", "ben", FLIP, 0))
    store.undo([decided[1].id], "ana")
    assert store.recent("ana", 3) == [(decided[3], False), (decided[2], False), (decided[1], True)]
    assert store.recent("nobody", 3) == []


def test_a_name_spelt_in_nfc_or_nfd_is_one_reviewer(store):
    store.record(NewDecision("a.png", "Jos\u00e9", FLIP, 0))
    store.record(NewDecision("a.png", "Jose\u0301", KEEP, 0))
    assert kinds(store, "a.png") == {"Jos\u00e9": KEEP}
    assert store.undo_last("Jose\u0301").kind == KEEP


def test_bad_decisions_are_refused_before_anything_is_written(store):
    for bad in (NewDecision("a.png", "ana", "maybe", 0), NewDecision("a.png", "  ", KEEP, 0),
                NewDecision("a.png", "ana=1", KEEP, 0), NewDecision("a.png", "ana; ben", KEEP, 0),
                NewDecision("a.png", "ana\nben", KEEP, 0),
                NewDecision("a.png", "ana", KEEP, 2), NewDecision("", "ana", KEEP, 0)):
        with pytest.raises(ValueError):
            store.record_many([NewDecision("ok.png", "ana", KEEP, 0), bad], origin="app")
    assert store.history() == []


def test_a_newer_schema_is_refused_and_the_file_left_as_it_was(tmp_path):
    path = tmp_path / "newer.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE decisions (id INTEGER PRIMARY KEY, whatever TEXT)")
    db.execute("INSERT INTO decisions VALUES (1, 'keep me')")
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match=f"{path} was written by a newer version of relabel "
                                         f"\\(schema {SCHEMA_VERSION + 1}; this one reads up to {SCHEMA_VERSION}\\)"):
        ReviewStore(path)
    assert path.read_bytes() == before


@pytest.mark.parametrize("version", [0, SCHEMA_VERSION])
def test_a_foreign_database_is_refused_and_left_byte_for_byte(tmp_path, version):
    """Another app's database, even one at our schema version, is recognised before anything is changed."""
    foreign = tmp_path / "other.sqlite"
    db = sqlite3.connect(foreign)
    db.execute("CREATE TABLE t (x)")
    db.execute(f"PRAGMA user_version = {version}")
    db.commit()
    db.close()
    before = foreign.read_bytes()
    with pytest.raises(StoreError, match="not a relabel review database; it was not changed"):
        ReviewStore(foreign)
    assert foreign.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.sqlite"]   # no -wal, no -shm


def test_an_empty_file_is_left_empty_when_not_creating(tmp_path):
    empty = tmp_path / "reviews.sqlite"
    empty.touch()
    with pytest.raises(StoreError, match="an empty file, not a review database; it was not changed"):
        ReviewStore(empty, create=False)
    assert empty.read_bytes() == b""


def test_a_non_database_is_refused(tmp_path):
    text = tmp_path / "notes.sqlite"
    text.write_text("these are my notes, not a database; " * 100)
    with pytest.raises(StoreError, match=f"{text}: cannot be used as a review database .file is not a database."):
        ReviewStore(text)
    assert text.read_text().startswith("these are my notes")


def test_opening_without_create_needs_an_existing_file(tmp_path):
    with pytest.raises(StoreError, match="no review database there"):
        ReviewStore(tmp_path / "typo.sqlite", create=False)
    assert not (tmp_path / "typo.sqlite").exists()


WRITER = """
import sys, time
from pathlib import Path
from relabel.store import NewDecision, ReviewStore, FLIP
db, reviewer, go = sys.argv[1], sys.argv[2], Path(sys.argv[3])
store = ReviewStore(db)
(go.parent / f"ready-{reviewer}").touch()
while not go.exists():
    time.sleep(0.005)
started = time.time()
for i in range(500):
    store.record(NewDecision(f"img{i % 50}.png", reviewer, FLIP, i % 2))
print(started, time.time())
"""


@pytest.mark.slow
def test_two_processes_writing_500_decisions_each_at_once_lose_none(tmp_path):
    """Both writers start on a signal and write the same images; every decision must be there afterwards."""
    db, go = tmp_path / "shared.sqlite", tmp_path / "go"
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(db), name, str(go)], cwd=REPO,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for name in ("ana", "ben")]
    deadline = time.time() + 120
    while not all((tmp_path / f"ready-{name}").exists() for name in ("ana", "ben")) and time.time() < deadline:
        time.sleep(0.01)  # both have opened the (new) database
    go.touch()
    spans = []
    for writer in writers:
        out, err = writer.communicate(timeout=300)
        assert writer.returncode == 0, err
        spans.append([float(t) for t in out.split()])
    assert max(start for start, _ in spans) < min(end for _, end in spans), "the writers did not overlap"
    history = ReviewStore(db).history()
    assert len(history) == 1000
    assert {r: sum(row["reviewer"] == r for row in history) for r in ("ana", "ben")} == {"ana": 500, "ben": 500}
    assert len({row["id"] for row in history}) == 1000


def test_current_of_some_images_and_what_changed_since(store):
    store.record(NewDecision("a.png", "ana", FLIP, 0))
    store.record(NewDecision("b.png", "ana", KEEP, 0))
    assert list(store.current(["b.png", "z.png"])) == ["b.png"]
    touched, newest = store.touched_since(0)
    assert (touched, newest) == ({"a.png", "b.png"}, 2)
    store.undo_last("ana")                                   # an undo touches its image too
    assert store.touched_since(newest) == ({"b.png"}, 3)
    assert store.touched_since(3) == (set(), 3)


CRASHING_WRITER = """
import sys
from relabel.store import NewDecision, ReviewStore, KEEP
store = ReviewStore(sys.argv[1])
for i in range(100000):
    print(store.record(NewDecision(f"img{i}.png", "ana", KEEP, 0)).id, flush=True)
"""


def test_a_killed_writer_loses_no_decision_it_had_reported_stored(tmp_path):
    """SIGKILL (a crash, an out-of-memory kill) mid-stream: every decision whose record() returned is there."""
    db = tmp_path / "reviews.sqlite"
    writer = subprocess.Popen([sys.executable, "-c", CRASHING_WRITER, str(db)], cwd=REPO, stdout=subprocess.PIPE,
                              text=True)
    reported = [int(writer.stdout.readline()) for _ in range(200)]
    writer.kill()
    writer.wait(timeout=60)
    stored = {row["id"] for row in ReviewStore(db).history()}
    assert set(reported) <= stored


@pytest.mark.parametrize("name", ["ana\u200b", "\u200bana", "an\u00a0a", "ana\u202e", "an\u2028a", "ana\ufeff",
                                  "ana\u3164", "ana\ufe0f", "ana\x1b"])
def test_a_name_with_an_invisible_character_is_refused(name):
    """Each of these shows as 'ana' (or as 'ana' and a break): accepted, it would be a second reviewer who
    looks like the first."""
    from relabel.store import reviewer_name, reviewer_problem

    problem = reviewer_problem(reviewer_name(name))
    assert problem is not None and "control or invisible character (U+" in problem


@pytest.mark.parametrize("name", ["ana", "José", "Ana María", "李明", "o'brien", "[click](http://x)"])
def test_visible_names_are_taken(name):
    """Markdown in a name is the tab's to escape when it shows it, not a reason to refuse the name."""
    from relabel.store import reviewer_problem

    assert reviewer_problem(name) is None
