"""Batch tab: many photos (or zips of photos) -> a table with one row per face and a CSV to download.

A file that cannot be read becomes a row with its error; the others still finish.
"""
from __future__ import annotations

import contextlib
import logging
import tempfile
import time
from pathlib import Path

import gradio as gr
from gradio.utils import get_upload_folder

from glasses import ImageError, Prediction
from glasses.prediction import COLUMNS
from glasses.report import PredictionWriter
from webapp.batch_inputs import BatchItem, batch_items
from webapp.context import AppContext
from webapp.face_table import batch_table, summary
from webapp.limits import BATCH_TIME_BUDGET_S
from webapp.shared_predictor import UNEXPECTED_ERROR, SharedPredictor

log = logging.getLogger(__name__)
_FOLDER_PREFIX = "glasses-batch-"   # each run's CSV sits in a folder of its own, so it keeps its plain name


def build_batch_tab(context: AppContext) -> None:
    predictor = context.predictor
    files = gr.File(label="Photos, or zips of photos", file_count="multiple", type="filepath", elem_id="batch-files")
    run = gr.Button("Classify all", variant="primary", elem_id="batch-run")
    verdict = gr.Markdown(elem_id="batch-summary")
    table = gr.Dataframe(headers=list(COLUMNS), label="One row per face", interactive=False, elem_id="batch-table")
    download = gr.File(label="CSV", interactive=False, elem_id="batch-csv")

    def on_run(files: list[str] | None, progress=gr.Progress()):
        return classify_batch(predictor, files or [], progress)

    run.click(on_run, files, [table, download, verdict], api_name="batch")


def classify_batch(predictor: SharedPredictor, paths: list[str], progress,
                   budget_s: float = BATCH_TIME_BUDGET_S) -> tuple[list[list], str | None, str]:
    """Table, CSV and summary of every file in `paths` (zips walked); files not begun within `budget_s`
    seconds of the start are rows saying so, so one visitor's batch cannot hold the queue for long."""
    if not paths:
        raise gr.Error("Drop some photos (or a zip of photos) first", print_exception=False)
    items = batch_items(paths)
    results = predictor.predict_many(_within_budget(items, budget_s), unexpected=_unexpected)
    predictions = list(progress.tqdm(results, total=len(items), desc="Classifying", unit="files"))
    rows = [row for prediction in predictions for row in prediction.rows()]
    return batch_table(rows), _write_csv(predictions), summary(rows)


def _within_budget(items: list[BatchItem], budget_s: float):
    """Each item as predict_many takes it, read when its turn comes; once `budget_s` seconds have passed, an
    ImageError saying it was not classified."""
    deadline = time.monotonic() + budget_s
    for item in items:
        if time.monotonic() > deadline:
            yield ImageError(item.name, f"not classified: the batch ran past its {budget_s:g} s; "
                                        "drop the files not classified in another batch")
        else:
            yield item.name, item.read


def _unexpected(name: str, err: Exception) -> str:
    """A failure the library does not foresee: its details (server paths, Python internals) go to the
    operator's log, the visitor reads that it happened."""
    log.error("classifying %s failed", name, exc_info=err)
    return UNEXPECTED_ERROR


def _write_csv(predictions: list[Prediction]) -> str:
    """The rows as glasses_results.csv (the CLI's columns), in a folder of its own inside Gradio's cache: a file
    returned from there is served as it is and deleted with the cache (after an hour, and when the app
    exits), where one written elsewhere would be copied in and the original, holding the visitor's file
    names and results, left behind."""
    cache = Path(get_upload_folder())
    cache.mkdir(parents=True, exist_ok=True)
    for emptied in cache.glob(f"{_FOLDER_PREFIX}*"):   # earlier runs' folders, once the cache took their CSV
        with contextlib.suppress(OSError):             # not empty, or removed by another run meanwhile
            emptied.rmdir()
    path = Path(tempfile.mkdtemp(prefix=_FOLDER_PREFIX, dir=cache)) / "glasses_results.csv"
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = PredictionWriter("csv", out)
        for prediction in predictions:
            writer.write(prediction)
        writer.close()
    return str(path)
