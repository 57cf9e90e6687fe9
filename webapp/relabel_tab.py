"""Relabel tab: a reviewer walks the suspect ranking of the manifest the app was started with, a page of face
crops at a time (the grid) or one image at a time (for unsure cases, with the full photo to zoom into), and
decides with keys or clicks. relabel.session does the work; this module and its helpers draw: webapp.review_grid
(the page of crops), webapp.review_keys (the keys and their help), webapp.review_words (decisions in words),
webapp.review_stats_view (who decided what, how fast, how far they agree).

Every decision names the image on the reviewer's screen: in the single view, a key pressed again before the
next image arrived is refused; in the grid, an answer is recorded only for the page it came from, crop by
crop (review_grid), so no decision lands on an image nobody looked at.
"""
from __future__ import annotations

import functools
import threading
import weakref

import gradio as gr
from PIL import Image

from glasses.images import ImageError, load_image
from glasses.manifest import ManifestError
from glasses.overlay import draw_captioned_box
from relabel import outcome
from relabel.export import ExportError
from relabel.reviewer_stats import pair_agreements, reviewer_stats
from relabel.session import Filters, Item, Progress, ReviewSession
from relabel.store import FLIP, KEEP, NO_FACE, SKIP, UNSURE, StoreError
from webapp.context import AppContext
from webapp.markdown_text import code, literal
from webapp.review_desk import ReviewDesk
from webapp.review_grid import GRID_CSS, PAGE_SIZE, StaleAnswer, answer_kinds, new_page, page_html
from webapp.review_keys import ACCEPT_JS, HELP_CSS, HOLD_JS, SETTLED_JS, UNDO_KEY, help_html, hotkeys_js
from webapp.review_stats_view import stats_markdown
from webapp.review_words import Words, change_line, history_choice

# decision -> (button text before a reviewer starts, key); the keys are wired up by HOTKEYS_JS, which the server
# adds to the page. Keep and flip name the label once an image shows (_decision_buttons).
DECISIONS = {KEEP: ("Keep label", "k"), FLIP: ("Flip label", "f"), NO_FACE: ("No face / not a person", "n"),
             UNSURE: ("Unsure", "u"), SKIP: ("Skip", "s")}
# The given-label filter's choices carry the labels as the strings "1" and "0": Gradio's API description
# lists a CheckboxGroup's values as strings, so a caller who sends what it says is understood.
# Images smaller than this on their long side (Olivetti's 64 px, CelebA-HQ's 256 px) are enlarged to it, so
# the face fills the frame and the caption drawn on it can be read.
SHOWN_SIDE = 640
GRID, SINGLE = f"Grid: {PAGE_SIZE} crops a page", "One image at a time"
VIEW_LENGTH = 13   # the outputs of every view (_view): build_relabel_tab's `view` list
HISTORY_LENGTH = 20
NOT_STARTED = "Type your name and press Start reviewing first: every decision is stored with it."


def button_id(kind: str) -> str:
    return f"review-{kind.replace('_', '-')}"


SINGLE_KEYS = {key: button_id(kind) for kind, (_, key) in DECISIONS.items()}
HOTKEYS_JS = hotkeys_js(SINGLE_KEYS)
HELP_HTML = help_html([(key, f"one image at a time: {text.lower()}") for text, key in DECISIONS.values()])


def build_relabel_tab(context: AppContext) -> None:
    """The tab for the desk of an app started with --manifest (webapp.ui leaves the tab out otherwise)."""
    desk = context.desk
    words = desk.labels.words
    label_choices = [(_label_name(words, label), str(label)) for label in (1, 0)]
    with gr.Row(equal_height=True):
        gr.Markdown(f"Reviewing {code(desk.manifest.path.name)} ({len(desk.manifest.rows):,} rows): labels of "
                    f"{code(desk.labels.attribute)}, 1 = {words[1]}, 0 = {words[0]}. Each decision "
                    f"is stored at once in {code(str(desk.store.path))}, with your name. In the grid, click a crop "
                    f"(or press its key) to flip its label, then **Enter** records the page. Press **?** for every "
                    f"key.", scale=8)
        gr.HTML(HELP_HTML, css_template=HELP_CSS, js_on_load=None, elem_id="review-help", scale=1)
    with gr.Row(equal_height=True):
        reviewer = gr.Textbox(label="Your name", placeholder="e.g. ana", scale=3, elem_id="review-reviewer")
        start = gr.Button("Start reviewing", variant="primary", scale=1, elem_id="review-start")
    with gr.Row():
        sources = gr.CheckboxGroup(desk.sources, value=desk.sources, label="Source", elem_id="review-sources")
        labels = gr.CheckboxGroup(label_choices, value=[value for _, value in label_choices],
                                  label="Given label", elem_id="review-labels")
        statuses = gr.CheckboxGroup(list(outcome.STATUSES), value=[outcome.UNREVIEWED], label="Status",
                                    info="unreviewed: nobody has decided it yet", elem_id="review-statuses")
    ranked_by = gr.Markdown(elem_id="review-ranked-by")
    with gr.Row(equal_height=True):
        mode = gr.Radio([GRID, SINGLE], value=GRID, label="View", scale=2, elem_id="review-mode")
        last = gr.Markdown(change_line(None, UNDO_KEY), elem_id="review-last")
        undo = gr.Button(f"Undo [{UNDO_KEY.upper()}]", scale=0, min_width=120, elem_id=button_id("undo"))
    with gr.Column(visible=True) as grid_view:
        grid = gr.HTML(page_html(None, NOT_STARTED), css_template=GRID_CSS, js_on_load=None, elem_id="review-grid")
        accept = gr.Button("Accept page: record every crop's label as shown [Enter]", variant="primary",
                           elem_id="review-accept")
    with gr.Column(visible=False) as single_view:
        with gr.Row():
            image = gr.Image(label="Image (the full photo: fullscreen to zoom)", type="pil", format="png",
                             interactive=False, height=480, buttons=["fullscreen"], elem_id="review-image")
            with gr.Column():
                item = gr.Markdown(elem_id="review-item")
                buttons = {kind: gr.Button(f"{text} [{key.upper()}]", variant="primary" if kind in (KEEP, FLIP) else
                                           "secondary", elem_id=button_id(kind))
                           for kind, (text, key) in DECISIONS.items()}
    progress = gr.Markdown(elem_id="review-progress")
    with gr.Accordion("Your last decisions", open=False, elem_id="review-history-panel"):
        history = gr.Radio([], label="Choose one to undo it (newest first)", elem_id="review-history")
        undo_chosen_button = gr.Button("Undo the chosen decision", elem_id="review-history-undo")
    with gr.Accordion("Reviewers and agreement", open=False, elem_id="review-stats-panel") as stats_panel:
        stats = gr.Markdown(elem_id="review-stats")
        with gr.Row():
            refresh = gr.Button("Refresh", elem_id="review-stats-refresh")
            disputed = gr.Button("Review the disputed rows", elem_id="review-disputed")
    with gr.Accordion("Export the corrected manifest", open=False, elem_id="review-export-panel"):
        if desk.export_to is None:
            gr.Markdown("Start the app with `--export OUT.csv` to write the corrected manifest from here (or use "
                        "`python -m relabel export`).")
        else:
            gr.Markdown(f"Writes the manifest with every agreed decision applied to {code(str(desk.export_to))}, "
                        f"and the rows left out (no face, unsure, disputed) beside it.")
            export_button = gr.Button("Write the corrected manifest", elem_id="review-export")
        exported = gr.Markdown(elem_id="review-export-result")
    session = gr.State()
    page = gr.State()
    shown = gr.Textbox(visible="hidden", elem_id="review-shown")   # the path on screen, as the browser has it
    answer = gr.Textbox(visible="hidden", elem_id="review-grid-answer")   # the grid's answer, set by ACCEPT_JS

    view = [session, shown, image, item, progress, buttons[KEEP], buttons[FLIP], last, history, page, grid,
            grid_view, single_view]
    assert len(view) == VIEW_LENGTH
    filters = [sources, labels, statuses]

    def on_start(name: str, sources_chosen, labels_chosen, statuses_chosen, view_chosen=GRID,
                 progress_bar=gr.Progress(track_tqdm=True)):
        try:
            started = desk.session(name, _filters(sources_chosen, labels_chosen, statuses_chosen))
        except (ManifestError, StoreError) as err:   # the operator's files: the server log shows it too
            raise gr.Error(str(err)) from None
        except ValueError as err:                     # the reviewer's name or filters: theirs to fix
            raise gr.Error(str(err), print_exception=False) from None
        return *_view(started, view_chosen), f"Most suspect first, by label quality (the probability of the given label) from the {started.probabilities}."

    # One event shows the whole first view: a second one rendering after it could land after a first decision.
    for trigger, api in ((start.click, {"api_name": "review_start"}),
                         (reviewer.submit, {"api_name": "review_start_by_enter", "api_visibility": "private"})):
        trigger(on_start, [reviewer, *filters, mode], view + [ranked_by], **api).success(
            lambda: stats_view(desk), None, stats, api_name=f"{api['api_name']}_stats", api_visibility="private")
    for kind, button in buttons.items():
        button.click(lambda s, on_screen, kind=kind: decide(s, on_screen, kind), [session, shown], view,
                     api_name=f"review_{kind}")
    accept.click(accept_page, [session, page, answer], view, js=ACCEPT_JS, api_name="review_accept_page").then(
        None, js=SETTLED_JS)
    undo.click(undo_last, [session, mode], view, js=HOLD_JS, api_name="review_undo").then(None, js=SETTLED_JS)
    mode.input(show_mode, [session, mode], view, js=HOLD_JS, api_name="review_mode",
               api_visibility="private").then(None, js=SETTLED_JS)
    for box in filters:
        box.input(lambda s, m, *c: refilter(s, *c, mode=m), [session, mode, *filters], view, js=HOLD_JS,
                  api_name=f"review_filter_{box.elem_id.removeprefix('review-')}",
                  api_visibility="private").then(None, js=SETTLED_JS)
    # preprocess=False: the id is checked here and by the store, whatever a caller sends in place of a choice.
    undo_chosen_button.click(undo_chosen, [session, history], [last, history, progress], preprocess=False,
                             api_name="review_undo_chosen")
    refresh.click(lambda: stats_view(desk), None, stats, api_name="review_stats")
    stats_panel.expand(lambda: stats_view(desk), None, stats, api_name="review_stats_on_open",
                       api_visibility="private")
    disputed.click(show_disputed, [session, sources, labels], [statuses, mode, *view], js=HOLD_JS,
                   api_name="review_disputed", api_visibility="private").then(None, js=SETTLED_JS)
    if desk.export_to is not None:
        export_button.click(lambda: export(desk), None, exported, api_name="review_export")


# One lock per reviewer's session. Gradio runs different events of one browser at once (its concurrency limit is
# per event), and a ReviewSession is not thread-safe: Z pressed while a page is being accepted would read the
# last change before the page is stored, and take back the page before it instead.
_SESSION_LOCKS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_SESSION_LOCKS_GUARD = threading.Lock()


def one_at_a_time(handler):
    """`handler(session, ...)` run under that session's lock (re-entrant: a handler may call another)."""
    @functools.wraps(handler)
    def locked(session, *args, **kwargs):
        if session is None:
            return handler(session, *args, **kwargs)
        with _SESSION_LOCKS_GUARD:
            lock = _SESSION_LOCKS.setdefault(session, threading.RLock())
        with lock:
            return handler(session, *args, **kwargs)
    return locked


@one_at_a_time
def decide(session: ReviewSession | None, on_screen: str, kind: str):
    """Record `kind` for the image the reviewer saw, then show the next."""
    _require(session)
    if session.current is None:   # nothing left under the filters, which the item text says
        return _view(session)
    if session.current.path != on_screen:
        gr.Warning("That came before the next image showed: nothing was recorded for it.")
    else:
        try:
            session.decide(kind)
        except StoreError as err:   # the operator's database: the server log shows it too
            raise gr.Error(str(err)) from None
    return _view(session)


@one_at_a_time
def accept_page(session: ReviewSession | None, page, answer):
    """Record the grid's page as the browser shows it (keep, or flip where toggled), then show the next page."""
    _require(session)
    if page is not None and not page.items:   # the pass is done: nothing on screen to record
        return _view(session, GRID)
    try:
        kinds = answer_kinds(page, answer)
    except StaleAnswer as err:
        gr.Warning(str(err))
        return tuple(gr.skip() for _ in range(VIEW_LENGTH))
    except ValueError as err:
        raise gr.Error(str(err), print_exception=False) from None
    if kinds:
        try:
            session.decide_page(kinds)
        except StoreError as err:
            raise gr.Error(str(err)) from None
    return _view(session, GRID)


@one_at_a_time
def undo_last(session: ReviewSession | None, mode: str = SINGLE):
    _require(session)
    session.undo()
    return _view(session, mode)


@one_at_a_time
def undo_chosen(session: ReviewSession | None, chosen):
    """Take back the decision chosen in the history panel (its id, as a caller sent it)."""
    _require(session)
    if chosen in (None, "", []):
        raise gr.Error("Choose a decision in the list first.", print_exception=False)
    try:
        session.undo_chosen(chosen)
    except ValueError as err:
        raise gr.Error(str(err), print_exception=False) from None
    except StoreError as err:
        raise gr.Error(str(err)) from None
    return (change_line(session.last_change, UNDO_KEY, session.labels.words), _history(session),
            _progress(session.progress()))


@one_at_a_time
def refilter(session: ReviewSession | None, *chosen, mode: str = SINGLE):
    if session is None:   # filters set before starting apply at the start
        return tuple(gr.skip() for _ in range(VIEW_LENGTH))
    try:
        session.set_filters(_filters(*chosen))
    except ValueError as err:
        raise gr.Error(str(err), print_exception=False) from None
    return _view(session, mode)


@one_at_a_time
def show_mode(session: ReviewSession | None, mode: str):
    """The view `mode` (GRID or SINGLE) of the session's place in the queue; before a start, just the layout."""
    if session is None:
        return (*(gr.skip() for _ in range(VIEW_LENGTH - 2)), *_layout(mode))
    return _view(session, mode)


@one_at_a_time
def show_disputed(session: ReviewSession | None, sources: list[str], labels: list[str]):
    """The rows reviewers disagree on, one at a time: the status filter set to disputed alone."""
    _require(session)
    return gr.update(value=[outcome.DISPUTED]), SINGLE, *refilter(session, sources, labels, [outcome.DISPUTED],
                                                                 mode=SINGLE)


def stats_view(desk: ReviewDesk) -> str:
    """The statistics panel, from the store's rows read once (a store of 90,000 decisions takes about a second
    for current() alone)."""
    try:
        current = desk.store.current()
        return stats_markdown(reviewer_stats(desk.store.history(), current), pair_agreements(current))
    except StoreError as err:
        raise gr.Error(str(err)) from None


def export(desk: ReviewDesk) -> str:
    """Write the corrected manifest where the operator said (--export), and say where and how many rows."""
    try:
        done = desk.export()
    except (ExportError, StoreError) as err:
        raise gr.Error(str(err)) from None
    counts = done.counts
    left_out = counts["rows"] - counts["written"]
    return (f"**Wrote {counts['written']:,} of {counts['rows']:,} rows** to {code(str(done.out))} "
            f"({counts[outcome.FLIPPED]:,} labels flipped). {left_out:,} rows left out (no face "
            f"{counts[outcome.NO_FACE]:,}, unsure {counts[outcome.UNSURE]:,}, disputed {counts[outcome.DISPUTED]:,}) "
            f"are listed in {code(str(done.held_out))}.")


def _require(session: ReviewSession | None) -> None:
    if session is None:
        raise gr.Error(NOT_STARTED, print_exception=False)


def _filters(sources: list[str], labels: list[str], statuses: list[str]) -> Filters:
    for chosen, what in ((sources, "source"), (labels, "given label"), (statuses, "status")):
        if not chosen:
            raise ValueError(f"Tick at least one {what}: with none, no image would show.")
    unknown = [label for label in labels if str(label) not in ("0", "1")]
    if unknown:
        raise ValueError(f"a given label is 1 or 0, not {unknown[0]!r}")
    return Filters(sources=frozenset(sources), labels=frozenset(int(label) for label in labels),
                   statuses=frozenset(statuses))


def _view(session: ReviewSession, mode: str = SINGLE):
    """Every output of a view, in build_relabel_tab's `view` order: state, the path on screen, image, item text,
    progress text, the keep and flip buttons, the last-decision line, the history, the grid's page (state and
    HTML) and which view shows. The single view's picture is read only in that view, the grid's crops only in
    the grid; the item text (the current row, the page's first in the grid) is cheap and always written."""
    progress = session.progress()   # counted once: it reads every row's status
    words = session.labels.words
    if mode == GRID:
        page = new_page(session)   # the page starts at the first row still to show: session.current
        picture, unreadable = gr.skip(), None
        grid = (page, page_html(page, _empty_text(session, progress), words))
    else:
        picture, unreadable = _picture(session.current, words)
        grid = (None, gr.skip())   # no page is on screen any more: an answer for the last one records nothing
    current = session.current
    return (session, current.path if current else "", picture, _describe(session, progress, unreadable),
            _progress(progress), *_decision_buttons(current, words),
            change_line(session.last_change, UNDO_KEY, words), _history(session), *grid, *_layout(mode))


def _layout(mode: str):
    return gr.update(visible=mode == GRID), gr.update(visible=mode != GRID)


def _label_name(words: Words, label: int) -> str:
    """A label as the filters and the item text name it: "glasses (1)"."""
    return f"{words[label]} ({label})"


def _decision_buttons(current: Item | None, words: Words):
    """Keep and flip name the label they give the image on screen: "Keep: no glasses", "Flip to glasses"."""
    if current is None:
        return tuple(gr.update(value=f"{DECISIONS[kind][0]} [{DECISIONS[kind][1].upper()}]") for kind in (KEEP, FLIP))
    return (gr.update(value=f"Keep: {words[current.label]} [{DECISIONS[KEEP][1].upper()}]"),
            gr.update(value=f"Flip to {words[1 - current.label]} [{DECISIONS[FLIP][1].upper()}]"))


def _history(session: ReviewSession):
    """The reviewer's latest decisions not yet taken back, newest first, for the history panel."""
    recent = session.store.recent(session.reviewer, HISTORY_LENGTH)
    words = session.labels.words
    return gr.update(choices=[history_choice(d, words) for d, undone in recent if not undone], value=None)


def _picture(current: Item | None, words: Words) -> tuple[Image.Image | None, str | None]:
    """The image with its scored face boxed and captioned, or None and why it cannot be shown."""
    if current is None:
        return None, None
    try:   # read only from inside the data folder, checked as the file is opened (a symlink swapped in later)
        image = load_image(current.read_image_bytes())
    except ImageError as err:
        return None, err.reason
    scale = max(1.0, SHOWN_SIDE / max(image.size))
    if scale > 1:
        image = image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS)
    if current.box is not None:
        caption = f"given: {words[current.label]}"
        if current.pred_prob is not None:
            caption += f" · model {current.pred_prob:.0%}"
        draw_captioned_box(image, [round(v * scale) for v in current.box], caption, (255, 60, 60))
    return image, None


def _empty_text(session: ReviewSession, progress: Progress) -> str:
    if session.pass_done:
        return (f"This pass is done: {progress.looked_at:,} images looked at under these filters. Press Start "
                f"reviewing, or change a filter, to go over them again.")
    return "Nothing left under these filters. Tick other statuses (e.g. disputed, flipped) to look at decided " \
           "images again."


def _describe(session: ReviewSession, progress: Progress, unreadable: str | None) -> str:
    current = session.current
    if current is None and session.pass_done:
        return (f"**This pass is done:** {progress.looked_at:,} images looked at under these filters. "
                "Press Start reviewing, or change a filter, to go over them again.")
    if current is None:
        return ("**Nothing left under these filters.** Tick other statuses (e.g. *disputed*, *flipped*) to look "
                "at decided images again.")
    words = session.labels.words
    model = "no face scored" if current.pred_prob is None else \
        f"model P({words[1]}) **{current.pred_prob:.2f}**, label quality {current.score:.3f} (0 = surely wrong)"
    face = "" if current.box is not None else "\n\nNo face found in this image: is there a person?"
    readable = f"\n\n**The image cannot be shown:** {literal(unreadable)}." if unreadable else ""
    decided = outcome.describe(list(current.decisions))
    others = code(decided) if decided else "none"
    return (f"**Rank {current.rank:,} of {current.of:,}** · {code(current.path)} · {code(current.source)}\n\n"
            f"Given label **{_label_name(words, current.label)}** · {model}\n\n"
            f"Status **{current.status}** · decisions so far: {others}{face}{readable}")


def _progress(p: Progress) -> str:
    return (f"**Reviewed {p.reviewed:,} of {p.total:,}** · labels changed {p.changed:,} · no face {p.no_face:,} · "
            f"unsure {p.unsure:,} · disputed {p.disputed:,} · by you {p.mine:,} · "
            f"left under these filters {p.left:,}")
