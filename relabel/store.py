"""Every review decision, kept in SQLite the moment it is made, by any number of reviewers and processes.

The decisions table is append-only: a decision is never updated or deleted, so no reviewer can overwrite
another's, and an undo is a new row that names the decision it takes back. WAL mode lets readers and one
writer work at once; writers wait for each other (busy timeout) instead of failing; each decision is its
own committed transaction with synchronous=FULL, so a crash, a killed server or a closed browser loses
nothing already decided. The schema version sits in `PRAGMA user_version`; a newer one, or a database that
is not ours, is refused untouched: it is checked before anything is changed.
"""
from __future__ import annotations

import sqlite3
import unicodedata
from collections.abc import Collection
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from glasses.errors import GlassesError

KEEP, FLIP, NO_FACE, UNSURE, SKIP = "keep", "flip", "no_face", "unsure", "skip"
KINDS = (KEEP, FLIP, NO_FACE, UNSURE, SKIP)
UNDO = "undo"
SCHEMA_VERSION = 1
BUSY_TIMEOUT_S = 30.0
MAX_REVIEWER_LENGTH = 100

_SCHEMA = f"""
CREATE TABLE decisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    path TEXT NOT NULL,              -- as in the manifest: relative to the data folder
    reviewer TEXT NOT NULL,
    decided_at TEXT NOT NULL,        -- UTC, ISO 8601
    kind TEXT NOT NULL CHECK (kind IN ({", ".join(f"'{k}'" for k in (*KINDS, UNDO))})),
    old_label INTEGER NOT NULL CHECK (old_label IN (0, 1)),
    new_label INTEGER CHECK (new_label IN (0, 1)),   -- keep and flip only
    undoes INTEGER REFERENCES decisions(id),         -- undo only
    origin TEXT NOT NULL             -- 'app', or 'import <file>'
);
CREATE INDEX decisions_by_path ON decisions(path, reviewer);
"""

_COLUMNS = "id, path, reviewer, decided_at, kind, old_label, new_label, origin"  # Decision's fields

# Each reviewer's latest decision per image that no undo took back. A skip counts only where that reviewer
# has made no real decision on the image: passing an image by later does not withdraw a decision.
_CURRENT = f"""
WITH live AS (
    SELECT * FROM decisions
    WHERE kind != '{UNDO}' AND id NOT IN (SELECT undoes FROM decisions WHERE undoes IS NOT NULL) {{where}}
), ranked AS (
    SELECT *, ROW_NUMBER() OVER (PARTITION BY path, reviewer
                                 ORDER BY kind != '{SKIP}' DESC, id DESC) AS newest
    FROM live
)
SELECT {_COLUMNS} FROM ranked WHERE newest = 1
ORDER BY id
"""
MAX_PATHS_PER_QUERY = 500  # current() of more images than this reads every decision: a short parameter list


class StoreError(GlassesError, RuntimeError):
    """The review database cannot be used; the message names the file and says why."""


@dataclass(frozen=True)
class Decision:
    id: int
    path: str
    reviewer: str
    decided_at: str
    kind: str
    old_label: int
    new_label: int | None
    origin: str


@dataclass(frozen=True)
class NewDecision:
    """A decision to record: what the reviewer said about `path`, whose label was `old_label`."""
    path: str
    reviewer: str
    kind: str
    old_label: int


def reviewer_name(typed: str) -> str:
    """A name as stored and compared: trimmed, and in Unicode NFC, so "José" typed on two keyboards (one
    character or e plus an accent) is one reviewer."""
    return unicodedata.normalize("NFC", typed.strip())


def reviewer_problem(name: str) -> str | None:
    """Why `name` (from reviewer_name) cannot be a reviewer's, or None. `=` and `;` are refused because the
    held-out list writes `ana=1; ben=0`; control, format and other invisible characters (a zero-width space,
    a direction override, a line separator, a space other than the plain one) because a name holding one looks
    like another reviewer's, or like nothing, wherever it is shown."""
    if not name or len(name) > MAX_REVIEWER_LENGTH:
        return f"a reviewer name is needed (at most {MAX_REVIEWER_LENGTH} characters)"
    if any(c in "=;" for c in name):
        return f"the reviewer name {name!r} holds '=' or ';'"
    hidden = [c for c in name if _invisible(c)]
    if hidden:
        return (f"the reviewer name {name!r} holds a control or invisible character "
                f"({', '.join(f'U+{ord(c):04X}' for c in dict.fromkeys(hidden))}); type it with letters, digits, "
                f"punctuation and plain spaces")
    return None


def _invisible(char: str) -> bool:
    """Control (Cc), format (Cf: zero-width, direction marks), private-use, surrogate and unassigned code
    points, line and paragraph separators, and every space but U+0020; also fillers Unicode lists as default
    ignorable although it calls them letters (U+3164 Hangul filler and its kin)."""
    category = unicodedata.category(char)
    return (category[0] == "C" or category in ("Zl", "Zp") or (category == "Zs" and char != " ")
            or char in _IGNORABLE_LETTERS)


# Unicode's default-ignorable code points (shown as nothing) that are not of a category _invisible refuses:
# Hangul fillers, the combining grapheme joiner, Khmer and Mongolian inherent vowels and selectors, and the
# variation selectors.
_IGNORABLE_LETTERS = frozenset(
    "\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180f\u3164\uffa0"
    + "".join(map(chr, range(0xFE00, 0xFE10))) + "".join(map(chr, range(0xE0100, 0xE01F0))))


def new_label(kind: str, old_label: int) -> int | None:
    """The label a decision gives the image: the same for keep, the other for flip, none otherwise."""
    return {KEEP: old_label, FLIP: 1 - old_label}.get(kind)


class ReviewStore:
    """One review database file. Each call opens its own connection, so it is safe from any thread."""

    def __init__(self, path: Path | str, create: bool = True):
        self.path = Path(path)
        if not create and not self.path.is_file():
            raise StoreError("no review database there", self.path)
        with self._connection() as db:
            db.execute("BEGIN IMMEDIATE")  # two processes creating the same new file: one creates, one waits
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StoreError(f"{self.path} was written by a newer version of relabel (schema {version}; this "
                                 f"one reads up to {SCHEMA_VERSION}). Update the project to use it; the file "
                                 f"was not changed.")
            if version == 0 and not db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                if not create:
                    raise StoreError("an empty file, not a review database; it was not changed", self.path)
                for statement in filter(str.strip, _SCHEMA.split(";")):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            elif version == 0 or _table_columns(db) != _schema_columns():  # another app's, whatever its version
                raise StoreError(f"{self.path} is an SQLite database, but not a relabel review database; "
                                 f"it was not changed")
            db.execute("COMMIT")
            db.execute("PRAGMA journal_mode = WAL")  # kept in the file: set once, holds for every connection

    def record(self, decision: NewDecision, origin: str = "app") -> Decision:
        """Store one decision at once (committed before this returns) and return it as stored."""
        return self.record_many([decision], origin)[0]

    def record_many(self, decisions: list[NewDecision], origin: str) -> list[Decision]:
        """Store several decisions in one transaction: all of them or, on any error, none. They share one time,
        as one act of the reviewer's (a page of the grid): relabel.reviewer_stats counts a pace from the time
        between acts, which a page's rows stamped milliseconds apart would make thousands a minute."""
        for decision in decisions:
            _check(decision)
        now = _now()
        with self._connection() as db:
            db.execute("BEGIN IMMEDIATE")
            ids = [db.execute("INSERT INTO decisions (path, reviewer, decided_at, kind, old_label, new_label, "
                              "origin) VALUES (?, ?, ?, ?, ?, ?, ?)",
                              (d.path, reviewer_name(d.reviewer), now, d.kind, d.old_label,
                               new_label(d.kind, d.old_label), origin)).lastrowid
                   for d in decisions]
            # ids are consecutive: this transaction holds the write lock
            stored = self._select(db, f"SELECT {_COLUMNS} FROM decisions WHERE id BETWEEN ? AND ? ORDER BY id",
                                  (ids[0], ids[-1])) if ids else []
            db.execute("COMMIT")
        return stored

    def undo_last(self, reviewer: str) -> Decision | None:
        """Take back `reviewer`'s latest decision that is not yet taken back (recorded as an undo row); it
        returns that decision, or None when there is nothing left to undo. Repeated calls go further back."""
        with self._connection() as db:
            db.execute("BEGIN IMMEDIATE")
            last = self._select(db, f"SELECT {_COLUMNS} FROM decisions WHERE reviewer = ? AND kind != '{UNDO}' "
                                    f"AND id NOT IN (SELECT undoes FROM decisions WHERE undoes IS NOT NULL) "
                                    f"ORDER BY id DESC LIMIT 1", (reviewer_name(reviewer),))
            if last:
                db.execute("INSERT INTO decisions (path, reviewer, decided_at, kind, old_label, undoes, origin) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?)",
                           (last[0].path, last[0].reviewer, _now(), UNDO, last[0].old_label, last[0].id, "app"))
            db.execute("COMMIT")
        return last[0] if last else None

    def undo(self, ids: Collection[int], reviewer: str) -> list[Decision]:
        """Take back the chosen decisions of `reviewer` (a page of the grid, or one picked from the history), in
        one transaction, each by an undo row naming it: nothing is deleted, and the reviewer's standing decision
        on that image falls back to their previous one, as with undo_last. Decisions already taken back are
        passed over; an id that is not one of `reviewer`'s decisions (another's, an undo row, or none) is
        refused with ValueError and nothing is written. Returns the decisions taken back, oldest first."""
        wanted = sorted({_decision_id(i) for i in ids})
        if not wanted:
            return []
        name = reviewer_name(reviewer)
        with self._connection() as db:
            db.execute("BEGIN IMMEDIATE")
            found = {d.id: d for d in self._select(
                db, f"SELECT {_COLUMNS} FROM decisions WHERE id IN ({','.join('?' * len(wanted))})", wanted)}
            strangers = [i for i in wanted if i not in found or found[i].reviewer != name or found[i].kind == UNDO]
            if strangers:
                raise ValueError(f"decision {strangers[0]} is not one of {name!r}'s decisions; nothing was undone")
            undone = {row[0] for row in db.execute(
                f"SELECT undoes FROM decisions WHERE undoes IN ({','.join('?' * len(wanted))})", wanted)}
            taken = [found[i] for i in wanted if i not in undone]
            for decision in taken:
                db.execute("INSERT INTO decisions (path, reviewer, decided_at, kind, old_label, undoes, origin) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?)",
                           (decision.path, decision.reviewer, _now(), UNDO, decision.old_label, decision.id, "app"))
            db.execute("COMMIT")
        return taken

    def recent(self, reviewer: str, limit: int) -> list[tuple[Decision, bool]]:
        """`reviewer`'s latest `limit` decisions (undo rows aside), newest first, each with whether it has been
        taken back: the app's history panel."""
        with self._connection() as db:
            latest = self._select(db, f"SELECT {_COLUMNS} FROM decisions WHERE reviewer = ? AND kind != '{UNDO}' "
                                      f"ORDER BY id DESC LIMIT ?", (reviewer_name(reviewer), int(limit)))
            ids = [d.id for d in latest]
            undone = {row[0] for row in db.execute(
                f"SELECT undoes FROM decisions WHERE undoes IN ({','.join('?' * len(ids))})", ids)} if ids else set()
        return [(d, d.id in undone) for d in latest]

    def current(self, paths: Collection[str] | None = None) -> dict[str, list[Decision]]:
        """Per image (only `paths` where given), each reviewer's standing decision (see _CURRENT), oldest first."""
        if paths is not None and len(paths) > MAX_PATHS_PER_QUERY:
            paths = None
        where = "" if paths is None else f"AND path IN ({','.join('?' * len(paths))})"
        by_path: dict[str, list[Decision]] = {}
        with self._connection() as db:
            for decision in self._select(db, _CURRENT.format(where=where), tuple(paths or ())):
                by_path.setdefault(decision.path, []).append(decision)
        return by_path

    def touched_since(self, after_id: int) -> tuple[set[str], int]:
        """Images with any row written after row `after_id`, and the newest row's id: what a cached view of
        current() must fetch again to be up to date."""
        with self._connection() as db:
            rows = db.execute("SELECT id, path FROM decisions WHERE id > ?", (after_id,)).fetchall()
        return {path for _, path in rows}, max((id_ for id_, _ in rows), default=after_id)

    def history(self) -> list[dict]:
        """Every row ever written, undo rows included, in the order written: the audit trail."""
        with self._connection() as db:
            db.row_factory = sqlite3.Row
            return [dict(row) for row in db.execute("SELECT * FROM decisions ORDER BY id")]

    @staticmethod
    def _select(db: sqlite3.Connection, sql: str, params=()) -> list[Decision]:
        return [Decision(*row) for row in db.execute(sql, params)]

    @contextmanager
    def _connection(self):
        """Autocommit mode (transactions are explicit: BEGIN IMMEDIATE takes the write lock up front), waiting
        up to BUSY_TIMEOUT_S for other writers. Closing without COMMIT discards a half-done transaction."""
        try:
            with closing(sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)) as db:
                db.execute("PRAGMA synchronous = FULL")
                yield db
        except sqlite3.DatabaseError as err:
            raise StoreError(f"cannot be used as a review database ({err})", self.path) from None


def _table_columns(db: sqlite3.Connection) -> list[str]:
    """The decisions table's columns, in order; [] when there is no such table."""
    return [row[1] for row in db.execute("PRAGMA table_info(decisions)")]


def _schema_columns() -> list[str]:
    """The decisions table's columns as _SCHEMA creates them, read from a database in memory: no second list
    to keep in step with the schema."""
    with closing(sqlite3.connect(":memory:")) as db:
        db.executescript(_SCHEMA)
        return _table_columns(db)


def _check(decision: NewDecision) -> None:
    if decision.kind not in KINDS:
        raise ValueError(f"unknown decision {decision.kind!r}; one of {', '.join(KINDS)}")
    problem = reviewer_problem(reviewer_name(decision.reviewer))
    if problem:
        raise ValueError(problem)
    if decision.old_label not in (0, 1):
        raise ValueError(f"old label {decision.old_label!r} is not 0 or 1")
    if not decision.path:
        raise ValueError("a decision needs the image's path")


def _decision_id(value) -> int:
    """A decision id as a caller sent it (the history panel's choice): a whole number, or ValueError."""
    # isdecimal, not isdigit: "²" is a digit that int() refuses, with a message of its own.
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).strip().isdecimal():
        raise ValueError(f"a decision id is a whole number, not {value!r}")
    return int(value)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")
