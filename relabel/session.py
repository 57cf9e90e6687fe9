"""One reviewer's review queue: everything the app's Relabel tab calls, so that the tab only draws.

The queue walks the ranking, most suspect first, showing the rows that pass the filters (source, given
label, status). By default that is the rows nobody has decided yet, so reviewers working at once share out
the work instead of repeating it; other statuses (disputed, flipped, ...) bring decided rows back for a
second look. Every decision goes to the store before the next item is returned; statuses are read from the
store at each step, so decisions made by other reviewers meanwhile are seen.

The queue walks the ranking in passes: within one pass (from the start, `set_filters` or `restart` until
nothing is left) each row is shown at most once. A second-look status such as flipped stays flipped when
the reviewer confirms it (or skips it); without passes those rows would come round again for ever. Rows
the pass went by without showing (another reviewer had them) are still picked up at the end, wrapping
round to the top, in case that reviewer left them undone.

A grid of crops decides a page at a time: `page` is the current item and the rows after it that the pass
shows, `decide_page` records a decision for each of them in one transaction. `undo` takes back the last
thing the reviewer did here, a whole page or one decision; `undo_chosen` takes back any one of their own.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from glasses.manifest import Manifest
from relabel import outcome
from relabel.contained import read_contained
from relabel.faces import FaceBoxes
from relabel.store import KINDS, SKIP, Decision, NewDecision, ReviewStore, reviewer_name, reviewer_problem

RECORDED, UNDONE = "recorded", "undone"
from relabel.suspects import Box, Ranking, Suspect, review_labels


@dataclass(frozen=True)
class Filters:
    """Which rows the queue shows; None means any. Statuses are those of relabel.outcome.STATUSES."""
    sources: frozenset[str] | None = None
    labels: frozenset[int] | None = None
    statuses: frozenset[str] = frozenset({outcome.UNREVIEWED})

    def __post_init__(self):
        unknown = set(self.statuses) - set(outcome.STATUSES)
        if unknown:
            raise ValueError(f"unknown status {sorted(unknown)}; one of {', '.join(outcome.STATUSES)}")


@dataclass(frozen=True)
class Item:
    """One row as the reviewer sees it. Read the picture with `read_image_bytes`, which checks at open time
    that the file is still inside the data folder."""
    path: str                     # as in the manifest
    data_root: Path
    source: str
    label: int                    # the given label
    pred_prob: float | None       # the model's probability of label 1 (P(glasses))
    score: float | None           # label quality: P(given label) (0 = surely wrong)
    rank: int                     # 1 = most suspect
    of: int                       # rows in the ranking
    box: Box | None               # the scored face; None when no face was found
    status: str                   # relabel.outcome status
    decisions: tuple[Decision, ...] = field(default=())   # every reviewer's standing decision on it

    @property
    def image_path(self) -> Path:
        """The file to show, unchecked: read it with `read_image_bytes`."""
        return self.data_root / self.path

    def read_image_bytes(self) -> bytes:
        """The image file's bytes, for glasses.images.load_image; raises relabel.contained.NotContained (an
        ImageError) when it is gone, not a regular file, or leads out of the data folder."""
        return read_contained(self.data_root, self.path)


@dataclass(frozen=True)
class Progress:
    total: int          # rows in the manifest
    reviewed: int       # rows somebody decided (skips do not count)
    changed: int        # rows whose label the reviewers flipped
    no_face: int        # rows the reviewers dropped as no face / not a person
    unsure: int
    disputed: int       # rows where reviewers disagree
    mine: int           # rows this reviewer decided
    left: int           # rows this pass still shows under the current filters (the current one included)
    looked_at: int      # rows this pass has shown and moved past


class ReviewSession:
    """`current` is the item on screen; `decide` records a decision on it and moves on; `undo` takes back
    this reviewer's last decision (or page) and shows that item again. `faces` finds boxes the ranking lacks.
    `pass_done` says that this pass has shown everything it will; `restart` begins another. `last_change` is
    what the reviewer's last action did: (RECORDED or UNDONE, the decisions), or None before any."""

    def __init__(self, manifest: Manifest, ranking: Ranking, store: ReviewStore, reviewer: str,
                 filters: Filters = Filters(), faces: FaceBoxes | None = None, labels=None):
        self.reviewer = reviewer_name(reviewer)
        problem = reviewer_problem(self.reviewer)
        if problem:
            raise ValueError(problem)
        self.manifest, self.ranking, self.store, self.faces = manifest, ranking, store, faces
        self.labels = labels or review_labels(manifest)   # the names of labels 1 and 0 (glasses.labels)
        self.filters = filters
        self._position = {suspect.path: i for i, suspect in enumerate(ranking.suspects)}
        self._decided: dict[str, list[Decision]] = {}   # the store's current(), refreshed by _decisions()
        self._seen_id = 0
        self._passed: set[str] = set()                   # rows this pass has shown and moved past
        self._index: int | None = None
        self.current: Item | None = None
        self.last_change: tuple[str, list[Decision]] | None = None
        self._move(0)

    @property
    def probabilities(self) -> str:
        """Where the model's confidence came from (out-of-fold pred_prob or the current model): show it."""
        return self.ranking.probabilities

    @property
    def pass_done(self) -> bool:
        """Whether this pass has shown rows and has none left: the tab says so (`progress().looked_at` rows
        looked at) rather than "nothing under these filters"."""
        return self.current is None and bool(self._passed)

    def decide(self, kind: str) -> Item | None:
        """Record `kind` (keep, flip, no_face, unsure, skip) for the current item; returns the next item, or
        None when this pass shows nothing more."""
        if kind not in KINDS:
            raise ValueError(f"unknown decision {kind!r}; one of {', '.join(KINDS)}")
        if self.current is None:
            return None
        stored = self.store.record(NewDecision(self.current.path, self.reviewer, kind, self.current.label))
        self.last_change = (RECORDED, [stored])
        self._passed.add(self.current.path)
        return self._move(self._index + 1)

    def page(self, size: int) -> list[Item]:
        """The current item and the rows this pass shows after it, up to `size` in all, most suspect first: one
        page of the grid, as the store has it now. Nothing is recorded and the queue does not move; the face
        boxes of the page are found together, and those of the page after it ahead."""
        current = self._decisions()
        if self._index is None:
            self.current = None
            return []
        indices = self._upcoming(self._index, size, current)
        self._index = indices[0] if indices else None
        following = self._upcoming(indices[-1] + 1, size, current, exclude=set(indices)) if indices else []
        if self.faces is not None:
            for i in [*indices, *following]:
                if self.ranking.suspects[i].box is None:
                    self.faces.prefetch(self.manifest.data_root, self.ranking.suspects[i].path)
        items = [self._item(i, current, look_ahead=False) for i in indices]
        self.current = items[0] if items else None
        return items

    def decide_page(self, kinds: dict[str, str]) -> list[Decision]:
        """Record `kinds` (path -> keep, flip, ...), the reviewer's decision on each crop of a page, all in one
        transaction, then move on past them; returns the decisions as stored."""
        unknown = [path for path in kinds if path not in self._position]
        if unknown:
            raise ValueError(f"{unknown[0]!r} is not a row of this review")
        suspects = self.ranking.suspects
        stored = self.store.record_many(
            [NewDecision(path, self.reviewer, kind, suspects[self._position[path]].label)
             for path, kind in kinds.items()], origin="app")
        self.last_change = (RECORDED, stored)
        self._passed.update(kinds)
        self._move(self._index or 0)
        return stored

    def undo(self) -> Item | None:
        """Take back what this reviewer did last here, a whole page of the grid or one decision (and, called
        again, their decisions before it, one at a time, as the store has them), and show its first item again
        (whatever the filters); returns the current item unchanged when there is nothing to undo."""
        change = self.last_change
        if change is not None and change[0] == RECORDED and len(change[1]) > 1:
            undone = self.store.undo([d.id for d in change[1]], self.reviewer)
        else:
            last = self.store.undo_last(self.reviewer)
            undone = [last] if last is not None else []
        if undone:
            self.last_change = (UNDONE, undone)
            self._back_to([d.path for d in undone])
        return self.current

    def undo_chosen(self, decision_id) -> list[Decision]:
        """Take back one of this reviewer's decisions, chosen by its id (the history panel), by an undo row in
        the store; the row comes round again in this pass. Raises ValueError for an id that is not one of theirs.
        The item on screen stays."""
        undone = self.store.undo([decision_id], self.reviewer)
        if undone:
            self.last_change = (UNDONE, undone)
            self._passed.discard(undone[0].path)
        return undone

    def _back_to(self, paths: list[str]) -> None:
        """Show again the first (most suspect) of `paths`, which this pass has not looked at any more."""
        known = [path for path in paths if path in self._position]
        self._passed.difference_update(known)
        if known:
            self._index = min(self._position[path] for path in known)
            self.current = self._item(self._index, self._decisions())

    def set_filters(self, filters: Filters) -> Item | None:
        """Show only rows passing `filters`, in a new pass from the most suspect."""
        self.filters = filters
        return self.restart()

    def restart(self) -> Item | None:
        """A new pass under the same filters, from the most suspect: rows looked at already show again."""
        self._passed.clear()
        return self._move(0)

    def progress(self) -> Progress:
        current = self._decisions()
        statuses = [self._status(s, current) for s in self.ranking.suspects]
        count = statuses.count
        return Progress(total=len(statuses), reviewed=sum(s in outcome.REVIEWED for s in statuses),
                        changed=count(outcome.FLIPPED), no_face=count(outcome.NO_FACE), unsure=count(outcome.UNSURE),
                        disputed=count(outcome.DISPUTED),
                        mine=sum(any(d.reviewer == self.reviewer and d.kind != SKIP for d in decisions)
                                 for path, decisions in current.items() if path in self._position),
                        left=sum(self._shown(s, current) for s in self.ranking.suspects), looked_at=len(self._passed))

    def _decisions(self) -> dict[str, list[Decision]]:
        """The store's standing decisions, fetching again only the images written to since the last look
        (by anyone): reading every decision at each step grew slow with thousands of them."""
        touched, self._seen_id = self.store.touched_since(self._seen_id)
        if touched:
            fresh = self.store.current(touched)
            for path in touched:
                self._decided.pop(path, None)
            self._decided.update(fresh)
        return self._decided

    def _status(self, suspect: Suspect, current: dict[str, list[Decision]]) -> str:
        return outcome.status(suspect.label, current.get(suspect.path, []), self.reviewer)

    def _move(self, start: int) -> Item | None:
        """Show the first row from `start` on that this pass still shows, as the store has it now."""
        current = self._decisions()
        self._index = self._next_index(start, current)
        self.current = self._item(self._index, current)
        return self.current

    def _shown(self, suspect: Suspect, current: dict[str, list[Decision]]) -> bool:
        """Whether this pass still shows the row: it passes the filters and was not looked at in this pass."""
        f = self.filters
        return ((f.sources is None or suspect.source in f.sources) and (f.labels is None or suspect.label in f.labels)
                and suspect.path not in self._passed and self._status(suspect, current) in f.statuses)

    def _next_index(self, start: int, current: dict[str, list[Decision]]) -> int | None:
        """The first shown row from `start` on, wrapping round to the top once (rows the pass went by while
        another reviewer had them, who may have left them undone)."""
        found = self._upcoming(start, 1, current)
        return found[0] if found else None

    def _upcoming(self, start: int, count: int, current: dict[str, list[Decision]],
                  exclude: set[int] = frozenset()) -> list[int]:
        """Up to `count` shown rows from `start` on, in _next_index's order, leaving out the indices `exclude`."""
        suspects = self.ranking.suspects
        found = []
        for i in [*range(start, len(suspects)), *range(0, min(start, len(suspects)))]:
            if len(found) == count:
                break
            if i not in exclude and self._shown(suspects[i], current):
                found.append(i)
        return found

    def _item(self, index: int | None, current: dict[str, list[Decision]], look_ahead: bool = True) -> Item | None:
        if index is None:
            return None
        suspect = self.ranking.suspects[index]
        data_root = self.manifest.data_root
        box = suspect.box
        if box is None and self.faces is not None:
            box = self.faces.get(data_root, suspect.path)
            following = self._next_index(index + 1, current) if look_ahead else None
            if following is not None:
                self.faces.prefetch(data_root, self.ranking.suspects[following].path)
        decisions = tuple(current.get(suspect.path, ()))
        return Item(path=suspect.path, data_root=data_root,
                    source=suspect.source, label=suspect.label,
                    pred_prob=suspect.pred_prob, score=suspect.score, rank=suspect.rank, of=len(self.ranking.suspects),
                    box=box, status=self._status(suspect, current), decisions=decisions)
