"""Review decisions in words, for the Relabel tab's confirmation line, history panel and buttons: "flipped
`27909.jpg` to glasses" rather than kind codes and label numbers. The words of labels 1 and 0 are those of the
attribute under review (glasses.labels.LabelNames.words: glasses / no glasses, or hat / no hat for a manifest of
Wearing_Hat).

File names and reviewer names come from the manifest and from reviewers: they go into Markdown as code spans
(webapp.markdown_text.code), never as Markdown of their own.
"""
from __future__ import annotations

from pathlib import PurePosixPath

from glasses.labels import GLASSES_LABELS
from relabel.session import RECORDED
from relabel.store import FLIP, KEEP, NO_FACE, SKIP, UNSURE, Decision
from webapp.markdown_text import code

Words = dict[int, str]   # label (1, 0) -> its words


LABEL_WORDS = GLASSES_LABELS.words


def file_name(path: str) -> str:
    return PurePosixPath(path).name or path


def decision_words(decision: Decision, markdown: bool = True, words: Words = LABEL_WORDS) -> str:
    """`flipped 27909.jpg to glasses`, `kept 1.jpg as no glasses`, `marked 2.jpg no face / not a person`."""
    name = code(file_name(decision.path)) if markdown else file_name(decision.path)
    if decision.kind == KEEP:
        return f"kept {name} as {words[decision.old_label]}"
    if decision.kind == FLIP:
        return f"flipped {name} to {words[1 - decision.old_label]}"
    if decision.kind == NO_FACE:
        return f"marked {name} no face / not a person"
    if decision.kind == UNSURE:
        return f"marked {name} unsure"
    if decision.kind == SKIP:
        return f"skipped {name}"
    return f"{decision.kind} {name}"


def change_line(change: tuple[str, list[Decision]] | None, undo_key: str, words: Words = LABEL_WORDS) -> str:
    """The line confirming what the reviewer's last action did (ReviewSession.last_change), with how to undo it."""
    if change is None or not change[1]:
        return "No decision yet in this session."
    what, decisions = change
    if what != RECORDED:
        return f"**Undone:** {_summary(decisions, words)}. It is up for review again."
    return f"**Recorded:** {_summary(decisions, words)}. Undo with **{undo_key.upper()}** or the Undo button."


def _summary(decisions: list[Decision], words: Words) -> str:
    if len(decisions) == 1:
        return decision_words(decisions[0], words=words)
    flips = [d for d in decisions if d.kind == FLIP]
    named = ", ".join(decision_words(d, words=words) for d in flips[:6]) + (f" and {len(flips) - 6} more" if len(flips) > 6 else "")
    others = len(decisions) - len(flips)
    kept = f"{others} kept" if all(d.kind == KEEP for d in decisions if d.kind != FLIP) else f"{others} others"
    return f"a page of {len(decisions)}: " + (f"{named}; {kept}" if flips else f"all {len(decisions)} kept")


def history_choice(decision: Decision, words: Words = LABEL_WORDS) -> tuple[str, str]:
    """(label, value) of one decision in the history panel: its time (UTC) and what it did; the value is its id."""
    return (f"{decision.decided_at[11:19]} UTC · {decision_words(decision, markdown=False, words=words)}",
            str(decision.id))
