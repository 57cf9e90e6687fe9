"""Classify tab: one photo (upload, paste, webcam, or an example clicked) -> a headline verdict, the photo with
boxes, labels and confidences (downloadable as `<photo>_overlay.jpg`), a table of the faces and the JSON.

The result sits beside the photo on a wide screen and right below it on a phone, the verdict first. The
threshold slider re-labels the faces already found, without running the model again.

The examples (webapp/examples/, credited in docs/examples.md) are public-domain and CC0 photos, glasses drawn on
some of them by webapp/examples/make.py: the datasets' own photos may not be published. They are not cached:
each runs the model when clicked, in well under a second, and the app starts without running it.
"""
from __future__ import annotations

from pathlib import Path

import gradio as gr

from glasses import FaceResult, ImageError, Prediction
from webapp.context import AppContext
from webapp.face_table import headline, photo_columns, photo_table, summary
from webapp.markdown_text import literal
from webapp.result_files import overlay_name, result_folder
from webapp.shared_predictor import SharedPredictor

SOURCES = ["upload", "clipboard", "webcam"]
EXAMPLES_FOLDER = Path(__file__).resolve().parent / "examples"
# Shown in this order; webapp/examples/make.py makes them and checks the model's answer for each.
EXAMPLE_PHOTOS = ["glasses.jpg", "sunglasses.jpg", "no_glasses.jpg", "group.jpg", "no_face.jpg"]
PHOTO_HEIGHT = 360   # pixels: on a phone, the verdict below the photo stays on the first screen
_OVERLAY_FOLDER_PREFIX = "glasses-overlay-"
JPEG_QUALITY = 90


def build_classify_tab(context: AppContext) -> None:
    predictor = context.predictor
    with gr.Row(equal_height=False, elem_id="classify-row"):
        with gr.Column(min_width=300):
            photo = gr.Image(label="Photo", sources=SOURCES, type="filepath", height=PHOTO_HEIGHT, elem_id="photo")
        with gr.Column(min_width=300):
            verdict_label = gr.Label(label="Verdict", elem_id="headline")
            verdict = gr.Markdown(elem_id="verdict")
            overlay = gr.Image(label="Faces", format="jpeg", interactive=False, buttons=["download", "fullscreen"],
                               elem_id="overlay")
            labels = predictor.labels   # the served model's words: glasses / no_glasses for the shipped one
            threshold = gr.Slider(0, 1, value=predictor.threshold, step=0.01,
                                  label=f"{labels.word(labels.positive).capitalize()} threshold",
                                  info=f"{labels.prob_key} at or above this is labelled {labels.positive}; the "
                                       "default is the model's, chosen on validation data", elem_id="threshold")
    examples = example_photos()
    if examples:
        # Not cached (cache_examples=False, which a Space would otherwise turn on): the click sets the photo,
        # then classifies it as an upload is, one run, with the slider's threshold.
        shown = gr.Examples(examples, inputs=photo, label="Examples: click one (public-domain photos; how "
                                                          "they were made: docs/examples.md)",
                            cache_examples=False, examples_per_page=len(examples), elem_id="classify-examples",
                            api_name="load_example")
    table = gr.Dataframe(headers=photo_columns(predictor.labels), label="Faces, largest first (probabilities in percent)",
                         interactive=False, elem_id="faces-table")
    raw = gr.JSON(label="JSON (as POST /api/classify returns it)", elem_id="faces-json")
    found = gr.State()   # (path, name, faces) of the last photo, for re-labelling without the model

    def on_photo(photo: dict | None, threshold: float):
        return classify(predictor, photo, threshold)

    outputs = [overlay, table, raw, verdict, verdict_label]
    # preprocess=False: the app reads the upload itself, so that a file that is no image, or is too large,
    # gets the library's reason ("not an image", "image too large: ...") instead of a decoding traceback;
    # webapp.upload_guard makes sure it is an upload. `input`, not `change`: a photo dropped onto the one
    # shown changes the value twice (cleared, then set) but is one visitor's action, classified once.
    photo.input(on_photo, [photo, threshold], outputs + [found], api_name="classify", preprocess=False)
    if examples:
        shown.load_input_event.then(on_photo, [photo, threshold], outputs + [found], api_name="classify_example",
                                    api_visibility="undocumented", preprocess=False)

    def on_threshold(found: tuple[str, str, tuple[FaceResult, ...]] | None, threshold: float):
        return rethreshold(predictor, found, threshold)

    threshold.change(on_threshold, [found, threshold], outputs, api_name="threshold")


def example_photos() -> list[str]:
    """The example photos there are, in EXAMPLE_PHOTOS' order (a checkout without them shows none)."""
    return [str(EXAMPLES_FOLDER / name) for name in EXAMPLE_PHOTOS if (EXAMPLES_FOLDER / name).is_file()]


def classify(predictor: SharedPredictor, upload: dict | None, threshold: float):
    """Overlay, table, JSON, verdict, headline and the state for re-labelling. A photo that cannot be read
    clears the previous photo's result and says why where the result goes (and in the JSON, as the REST route
    does), so the reason stays on screen after a toast would have faded."""
    if not upload:   # the photo was cleared
        return None, [], None, "", None, None
    threshold = _checked_threshold(threshold)
    path = upload["path"]   # an upload to this app: webapp.upload_guard refused anything else
    name = upload.get("orig_name") or Path(path).name
    try:
        result = predictor.classify(path, name)
    except ImageError as err:
        failed = Prediction.failed(name, err.reason)
        return (None, [], failed.to_dict(), f"**Cannot classify {literal(name)}**: {literal(err.reason)}",
                headline(failed), None)
    return *_show(result, threshold), (path, name, result.faces)


def _checked_threshold(value) -> float:
    """The slider's value as a client sent it: with preprocess=False, Gradio's own range check does not run."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 1:
        return float(value)
    raise gr.Error(f"the threshold must be a number from 0 to 1, got {value!r}", print_exception=False)


def rethreshold(predictor: SharedPredictor, found: tuple[str, str, tuple[FaceResult, ...]] | None,
                threshold: float):
    if found is None:   # no photo yet: nothing to re-label
        return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
    path, name, faces = found
    try:
        photo = predictor.read(path, name)
    except ImageError:
        raise gr.Error(f"{name}: the uploaded photo is gone from the server; upload it again",
                       print_exception=False) from None
    return _show(Prediction(name, photo.full_size, faces, photo=photo, labels=predictor.labels), threshold)


def _show(result: Prediction, threshold: float):
    """Overlay (a file), table, JSON, verdict and headline of `result` labelled at `threshold`."""
    shown = result.with_threshold(threshold)
    verdict = summary(shown.rows(), shown.labels) if shown.faces else "no face found"
    return (write_overlay(shown), photo_table(shown), shown.to_dict(), f"**{literal(result.name)}**: {verdict}",
            headline(shown))


def write_overlay(prediction: Prediction) -> str:
    """The photo with its faces drawn, as a JPEG named after the photo (`photo.jpg` -> `photo_overlay.jpg`: the
    name its download button saves it under), in a folder of this request's own in Gradio's cache
    (webapp/result_files.py)."""
    path = result_folder(_OVERLAY_FOLDER_PREFIX) / overlay_name(prediction.name)
    prediction.overlay().save(path, "JPEG", quality=JPEG_QUALITY)
    return str(path)
