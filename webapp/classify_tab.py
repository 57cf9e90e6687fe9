"""Classify tab: one photo (upload, paste or webcam) -> boxes with labels and confidences, a table and the JSON.

The threshold slider re-labels the faces already found, without running the model again.

No example photos are offered: the only photos at hand are the labelled datasets in ../shared/data, whose
licences forbid redistributing them, and a photo without a face would show nothing.
"""
from __future__ import annotations

from pathlib import Path

import gradio as gr

from glasses import FaceResult, ImageError, Prediction
from webapp.context import AppContext
from webapp.face_table import PHOTO_COLUMNS, photo_table, summary
from webapp.markdown_text import literal
from webapp.shared_predictor import SharedPredictor

SOURCES = ["upload", "clipboard", "webcam"]


def build_classify_tab(context: AppContext) -> None:
    predictor = context.predictor
    with gr.Row():
        with gr.Column():
            photo = gr.Image(label="Photo", sources=SOURCES, type="filepath", elem_id="photo")
            threshold = gr.Slider(0, 1, value=predictor.threshold, step=0.01, label="Glasses threshold",
                                  info="glasses_prob at or above this is labelled glasses; the default is the "
                                       "model's, chosen on validation data", elem_id="threshold")
        with gr.Column():
            overlay = gr.Image(label="Faces", format="jpeg", interactive=False, buttons=["download", "fullscreen"],
                               elem_id="overlay")
            verdict = gr.Markdown(elem_id="verdict")
    table = gr.Dataframe(headers=PHOTO_COLUMNS, label="Faces, largest first", interactive=False,
                         elem_id="faces-table")
    raw = gr.JSON(label="JSON (as POST /api/classify returns it)", elem_id="faces-json")
    found = gr.State()   # (path, name, faces) of the last photo, for re-labelling without the model

    def on_photo(photo: dict | None, threshold: float):
        return classify(predictor, photo, threshold)

    outputs = [overlay, table, raw, verdict]
    # preprocess=False: the app reads the upload itself, so that a file that is no image, or is too large,
    # gets the library's reason ("not an image", "image too large: ...") instead of a decoding traceback;
    # webapp.upload_guard makes sure it is an upload. `input`, not `change`: a photo dropped onto the one
    # shown changes the value twice (cleared, then set) but is one visitor's action, classified once.
    photo.input(on_photo, [photo, threshold], outputs + [found], api_name="classify", preprocess=False)

    def on_threshold(found: tuple[str, str, tuple[FaceResult, ...]] | None, threshold: float):
        return rethreshold(predictor, found, threshold)

    threshold.change(on_threshold, [found, threshold], outputs, api_name="threshold")


def classify(predictor: SharedPredictor, upload: dict | None, threshold: float):
    """Overlay, table, JSON, verdict and the state for re-labelling. A photo that cannot be read clears the
    previous photo's result and says why where the result goes (and in the JSON, as the REST route does),
    so the reason stays on screen after a toast would have faded."""
    if not upload:   # the photo was cleared
        return None, [], None, "", None
    threshold = _checked_threshold(threshold)
    path = upload["path"]   # an upload to this app: webapp.upload_guard refused anything else
    name = upload.get("orig_name") or Path(path).name
    try:
        result = predictor.classify(path, name)
    except ImageError as err:
        failed = Prediction.failed(name, err.reason).to_dict()
        return None, [], failed, f"**Cannot classify {literal(name)}**: {literal(err.reason)}", None
    return *_show(result, threshold), (path, name, result.faces)


def _checked_threshold(value) -> float:
    """The slider's value as a client sent it: with preprocess=False, Gradio's own range check does not run."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 1:
        return float(value)
    raise gr.Error(f"the threshold must be a number from 0 to 1, got {value!r}", print_exception=False)


def rethreshold(predictor: SharedPredictor, found: tuple[str, str, tuple[FaceResult, ...]] | None,
                threshold: float):
    if found is None:   # no photo yet: nothing to re-label
        return gr.skip(), gr.skip(), gr.skip(), gr.skip()
    path, name, faces = found
    try:
        photo = predictor.read(path, name)
    except ImageError:
        raise gr.Error(f"{name}: the uploaded photo is gone from the server; upload it again",
                       print_exception=False) from None
    return _show(Prediction(name, photo.full_size, faces, photo=photo), threshold)


def _show(result: Prediction, threshold: float):
    """Overlay, table, JSON and verdict of `result` labelled at `threshold`."""
    shown = result.with_threshold(threshold)
    verdict = summary(shown.rows()) if shown.faces else "no face found"
    return shown.overlay(), photo_table(shown), shown.to_dict(), f"**{literal(result.name)}**: {verdict}"
