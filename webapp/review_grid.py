"""The Relabel tab's grid: a page of face crops, most suspect first, whose labels the reviewer toggles in the
browser (a click or the crop's key, no server call) and then accepts whole, one decision per crop.

The page lives on the server (GridPage, in the browser session's state) under a random token that the page's
HTML carries. The browser answers with that token and the positions of the crops it shows flipped; an answer
naming another page (a second Enter before the next page arrived) or a crop the page does not hold records
nothing. So every decision names a crop that was on the reviewer's screen, as in the single-image view.
"""
from __future__ import annotations

import base64
import html
import io
import json
import secrets
from dataclasses import dataclass

from glasses.images import ImageError, load_image
from relabel import outcome
from relabel.session import Item, ReviewSession
from relabel.sheets import face_tile
from relabel.store import FLIP, KEEP
from webapp.review_words import LABEL_WORDS, Words, file_name

PAGE_SIZE = 24
COLUMNS = 8
# Crop i's key: the keyboard's rows laid over the grid's three rows of eight.
KEYS = "12345678qwertyuiasdfghjk"
CROP_SIDE = 192          # pixels of each crop, as the contact sheets draw them
MAX_ANSWER_CHARS = 2000  # a page's answer is a token and at most PAGE_SIZE numbers


class StaleAnswer(ValueError):
    """The answer is for a page that is no longer on screen: nothing is recorded, the reviewer is told."""


@dataclass(frozen=True)
class GridPage:
    token: str
    items: tuple[Item, ...]


def new_page(session: ReviewSession, size: int = PAGE_SIZE) -> GridPage:
    return GridPage(secrets.token_hex(8), tuple(session.page(size)))


def answer_kinds(page: GridPage | None, answer) -> dict[str, str]:
    """Path -> keep or flip for every crop of `page`, from the browser's answer `{"page": token, "flip": [i, ...]}`
    (positions on the page). Raises StaleAnswer for another page's answer, ValueError for a malformed one."""
    if page is None:
        raise StaleAnswer("No page is on screen yet: nothing was recorded.")
    if not isinstance(answer, str) or len(answer) > MAX_ANSWER_CHARS:
        raise ValueError("the page's answer is a short JSON text")
    try:
        parsed = json.loads(answer)
    except ValueError:
        raise ValueError("the page's answer is not JSON") from None
    if not isinstance(parsed, dict) or not isinstance(parsed.get("flip"), list):
        raise ValueError('the page\'s answer is {"page": token, "flip": [positions]}')
    if parsed.get("page") != page.token:
        raise StaleAnswer("That came before the next page showed: nothing was recorded for it.")
    flips = parsed["flip"]
    if any(isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < len(page.items) for i in flips):
        raise ValueError(f"a flipped crop is a position on the page, 0 to {len(page.items) - 1}")
    flipped = set(flips)
    return {item.path: FLIP if i in flipped else KEEP for i, item in enumerate(page.items)}


def page_html(page: GridPage | None, empty_text: str, words: Words = LABEL_WORDS) -> str:
    """The page as HTML: one tile per crop with its key, the given label and what a toggle makes of it, in
    `words` (the reviewed attribute's, glasses.labels.LabelNames.words)."""
    if page is None or not page.items:
        return f'<div class="review-empty">{html.escape(empty_text)}</div>'
    tiles = "".join(_tile_html(i, item, words) for i, item in enumerate(page.items))
    return (f'<div class="review-page" data-page="{page.token}" style="--columns: {COLUMNS}">{tiles}</div>')


def _tile_html(i: int, item: Item, words: Words) -> str:
    given = words[item.label]
    model = "" if item.pred_prob is None else f" · model {item.pred_prob:.0%}"
    picture, problem = _crop_data_uri(item)
    shown = (f'<img src="{picture}" alt="{html.escape(file_name(item.path))}" draggable="false">' if picture else
             f'<div class="review-unreadable">cannot be shown: {html.escape(problem)}</div>')
    note = "" if item.box is not None else '<span class="review-noface">no face found</span>'
    decided = outcome.describe(list(item.decisions))   # second looks: who said what so far
    others = f'<span class="review-others">{html.escape(decided)}</span>' if decided else ""
    return (f'<button type="button" class="review-tile" data-index="{i}" data-path="{html.escape(item.path)}" '
            f'aria-pressed="false" title="{html.escape(item.path)}">{shown}{note}'
            f'<span class="review-caption"><kbd>{KEYS[i].upper()}</kbd> '
            f'<span class="review-keep">{given}</span>'
            f'<span class="review-flip">flip to {words[1 - item.label]}</span>'
            f'<span class="review-model">{model}</span>{others}</span></button>')


def _crop_data_uri(item: Item) -> tuple[str | None, str | None]:
    """The crop as a JPEG data URI, or None and why the image cannot be shown."""
    try:   # read only from inside the data folder, checked as the file is opened
        image = load_image(item.read_image_bytes())
    except ImageError as err:
        return None, err.reason
    buffer = io.BytesIO()
    face_tile(image, item.box, CROP_SIDE).convert("RGB").save(buffer, "JPEG", quality=88)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii"), None


GRID_CSS = """
.review-page { display: grid; grid-template-columns: repeat(var(--columns), 1fr); gap: 6px; }
.review-tile { position: relative; padding: 0; border: 3px solid #9ca3af; border-radius: 6px; cursor: pointer;
  background: #fff; color: #111; display: flex; flex-direction: column; align-items: stretch; font: inherit; }
.review-tile img { width: 100%; aspect-ratio: 1; object-fit: contain; display: block; border-radius: 3px 3px 0 0; }
.review-tile .review-flip { display: none; }
.review-tile.flipped { border-color: #dc2626; background: #fee2e2; }
.review-page[data-sent] .review-tile { cursor: progress; opacity: .6; }
.review-tile.flipped .review-keep { display: none; }
.review-tile.flipped .review-flip { display: inline; font-weight: 700; color: #b91c1c; }
.review-caption { font-size: 13px; padding: 2px 4px; text-align: left; line-height: 1.3; }
.review-caption kbd { border: 1px solid #6b7280; border-radius: 3px; padding: 0 4px; font-size: 12px; }
.review-model { color: #4b5563; }
.review-others { display: block; color: #4b5563; font-size: 12px; overflow-wrap: anywhere; }
.review-noface { position: absolute; top: 4px; left: 4px; background: #fde68a; font-size: 12px; padding: 0 4px; }
.review-unreadable { aspect-ratio: 1; padding: 8px; color: #b91c1c; font-size: 13px; }
.review-empty { padding: 24px; font-size: 16px; }
"""
