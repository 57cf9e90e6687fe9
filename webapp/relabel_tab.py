"""Relabel tab: a reviewer walks the suspect ranking of the manifest the app was started with, one image at a
time, and decides each with one key or click. relabel.session does the work; this module draws.

Every decision names the image on the reviewer's screen: a key pressed again before the next image arrived
is refused, so no decision lands on an image nobody looked at.
"""
from __future__ import annotations

import gradio as gr
from PIL import Image

from glasses.images import ImageError, load_image
from glasses.overlay import draw_captioned_box
from relabel import outcome
from relabel.session import Filters, Item, Progress, ReviewSession
from relabel.store import FLIP, KEEP, NO_FACE, SKIP, UNSURE, StoreError
from glasses.manifest import ManifestError
from webapp.context import AppContext
from webapp.markdown_text import code, literal

# decision -> (button text, key); the keys are wired up by HOTKEYS_JS, which the server adds to the page.
DECISIONS = {KEEP: ("Keep label", "k"), FLIP: ("Flip label", "f"), NO_FACE: ("No face / not a person", "n"),
             UNSURE: ("Unsure", "u"), SKIP: ("Skip", "s")}
UNDO_KEY = "z"
LABEL_NAMES = {1: "glasses (1)", 0: "no glasses (0)"}
# The given-label filter's choices carry the labels as the strings "1" and "0": Gradio's API description
# lists a CheckboxGroup's values as strings, so a caller who sends what it says is understood.
LABEL_CHOICES = [(name, str(label)) for label, name in LABEL_NAMES.items()]
# Images smaller than this on their long side (Olivetti's 64 px, CelebA-HQ's 256 px) are enlarged to it, so
# the face fills the frame and the caption drawn on it can be read.
SHOWN_SIDE = 640
NOT_STARTED = "Type your name and press Start reviewing first: every decision is stored with it."


def button_id(kind: str) -> str:
    return f"review-{kind.replace('_', '-')}"


# The decision keys work wherever the focus is except where typing goes (a text box, a select, an editable
# element): a ticked checkbox or a clicked button keeps the focus and must not swallow them. Enter in the name
# box starts the session and then leaves the box, so that the first decision key is not typed into the name.
HOTKEYS_JS = """() => {
  const keys = %s;
  const typing = (el) => el && (el.isContentEditable || el.tagName === "TEXTAREA" || el.tagName === "SELECT" ||
    (el.tagName === "INPUT" && !["checkbox", "radio", "button", "submit", "reset", "range", "color", "file"]
      .includes((el.type || "text").toLowerCase())));
  document.addEventListener("keydown", (event) => {
    const target = event.target;
    if (event.key === "Enter" && target && target.closest && target.closest("#%s")) {
      setTimeout(() => target.blur(), 0);
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat || typing(target)) return;
    const button = keys[event.key.toLowerCase()] && document.getElementById(keys[event.key.toLowerCase()]);
    if (button && button.checkVisibility() && !button.disabled) { event.preventDefault(); button.click(); }
  });
}""" % ({**{key: button_id(kind) for kind, (_, key) in DECISIONS.items()}, UNDO_KEY: button_id("undo")},
        "review-reviewer")


def build_relabel_tab(context: AppContext) -> None:
    """The tab for the desk of an app started with --manifest (webapp.ui leaves the tab out otherwise)."""
    desk = context.desk
    gr.Markdown(f"Reviewing {code(desk.manifest.path.name)} ({len(desk.manifest.rows):,} rows). Each "
                f"decision is stored at once in {code(str(desk.store.path))}, with your name. Keys: "
                + ", ".join(f"**{key.upper()}** {text.lower()}" for text, key in DECISIONS.values())
                + f", **{UNDO_KEY.upper()}** undo.")
    with gr.Row(equal_height=True):
        reviewer = gr.Textbox(label="Your name", placeholder="e.g. ana", scale=3, elem_id="review-reviewer")
        start = gr.Button("Start reviewing", variant="primary", scale=1, elem_id="review-start")
    with gr.Row():
        sources = gr.CheckboxGroup(desk.sources, value=desk.sources, label="Source", elem_id="review-sources")
        labels = gr.CheckboxGroup(LABEL_CHOICES, value=[value for _, value in LABEL_CHOICES],
                                  label="Given label", elem_id="review-labels")
        statuses = gr.CheckboxGroup(list(outcome.STATUSES), value=[outcome.UNREVIEWED], label="Status",
                                    info="unreviewed: nobody has decided it yet", elem_id="review-statuses")
    ranked_by = gr.Markdown(elem_id="review-ranked-by")
    with gr.Row():
        image = gr.Image(label="Image", type="pil", format="png", interactive=False, height=440,
                         elem_id="review-image")
        with gr.Column():
            item = gr.Markdown(elem_id="review-item")
            buttons = {kind: gr.Button(f"{text} [{key.upper()}]", variant="primary" if kind in (KEEP, FLIP) else
                                       "secondary", elem_id=button_id(kind))
                       for kind, (text, key) in DECISIONS.items()}
            undo = gr.Button(f"Undo my last decision [{UNDO_KEY.upper()}]", elem_id=button_id("undo"))
    progress = gr.Markdown(elem_id="review-progress")
    session = gr.State()
    shown = gr.Textbox(visible="hidden", elem_id="review-shown")   # the path on screen, as the browser has it

    view = [session, shown, image, item, progress]
    filters = [sources, labels, statuses]

    def on_start(name: str, *chosen, progress_bar=gr.Progress(track_tqdm=True)):
        try:
            started = desk.session(name, _filters(*chosen))
        except (ManifestError, StoreError) as err:   # the operator's files: the server log shows it too
            raise gr.Error(str(err)) from None
        except ValueError as err:                     # the reviewer's name or filters: theirs to fix
            raise gr.Error(str(err), print_exception=False) from None
        return *_view(started), f"Most suspect first, by label quality (the probability of the given label) from the {started.probabilities}."

    start.click(on_start, [reviewer, *filters], view + [ranked_by], api_name="review_start")
    reviewer.submit(on_start, [reviewer, *filters], view + [ranked_by], api_visibility="private")
    for kind, button in buttons.items():
        button.click(lambda s, on_screen, kind=kind: decide(s, on_screen, kind), [session, shown], view,
                     api_name=f"review_{kind}")
    undo.click(undo_last, [session], view, api_name="review_undo")
    for box in filters:
        box.input(refilter, [session, *filters], view, api_visibility="private")


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


def undo_last(session: ReviewSession | None):
    _require(session)
    session.undo()
    return _view(session)


def refilter(session: ReviewSession | None, *chosen):
    if session is None:   # filters set before starting apply at the start
        return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
    try:
        session.set_filters(_filters(*chosen))
    except ValueError as err:
        raise gr.Error(str(err), print_exception=False) from None
    return _view(session)


def _require(session: ReviewSession | None) -> None:
    if session is None:
        raise gr.Error(NOT_STARTED, print_exception=False)


def _filters(sources: list[str], labels: list[str], statuses: list[str]) -> Filters:
    for chosen, what in ((sources, "source"), (labels, "given label"), (statuses, "status")):
        if not chosen:
            raise ValueError(f"Tick at least one {what}: with none, no image would show.")
    unknown = [label for label in labels if str(label) not in ("0", "1")]
    if unknown:
        raise ValueError(f"a given label is 1 (glasses) or 0 (no glasses), not {unknown[0]!r}")
    return Filters(sources=frozenset(sources), labels=frozenset(int(label) for label in labels),
                   statuses=frozenset(statuses))


def _view(session: ReviewSession):
    """State, the path on screen, image, item text and progress text for the session's current item."""
    current = session.current
    picture, unreadable = _picture(current)
    progress = session.progress()   # counted once: it reads every row's status
    return (session, current.path if current else "", picture, _describe(session, progress, unreadable),
            _progress(progress))


def _picture(current: Item | None) -> tuple[Image.Image | None, str | None]:
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
        caption = f"given: {LABEL_NAMES[current.label].split(' (')[0]}"
        if current.pred_prob is not None:
            caption += f" · model {current.pred_prob:.0%}"
        draw_captioned_box(image, [round(v * scale) for v in current.box], caption, (255, 60, 60))
    return image, None


def _describe(session: ReviewSession, progress: Progress, unreadable: str | None) -> str:
    current = session.current
    if current is None and session.pass_done:
        return (f"**This pass is done:** {progress.looked_at:,} images looked at under these filters. "
                "Press Start reviewing, or change a filter, to go over them again.")
    if current is None:
        return ("**Nothing left under these filters.** Tick other statuses (e.g. *disputed*, *flipped*) to look "
                "at decided images again.")
    model = "no face scored" if current.pred_prob is None else \
        f"model P(glasses) **{current.pred_prob:.2f}**, label quality {current.score:.3f} (0 = surely wrong)"
    face = "" if current.box is not None else "\n\nNo face found in this image: is there a person?"
    readable = f"\n\n**The image cannot be shown:** {literal(unreadable)}." if unreadable else ""
    decided = outcome.describe(list(current.decisions))
    others = code(decided) if decided else "none"
    return (f"**Rank {current.rank:,} of {current.of:,}** · {code(current.path)} · {code(current.source)}\n\n"
            f"Given label **{LABEL_NAMES[current.label]}** · {model}\n\n"
            f"Status **{current.status}** · decisions so far: {others}{face}{readable}")


def _progress(p: Progress) -> str:
    return (f"**Reviewed {p.reviewed:,} of {p.total:,}** · labels changed {p.changed:,} · no face {p.no_face:,} · "
            f"unsure {p.unsure:,} · disputed {p.disputed:,} · by you {p.mine:,} · "
            f"left under these filters {p.left:,}")
