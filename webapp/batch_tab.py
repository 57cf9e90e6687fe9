"""Batch tab: many photos (or zips of photos) -> counts, a gallery of the photos with their faces drawn, a table
with one row per face, and the CSV and a zip of the drawn photos to download.

The file list stays a compact, scrolling box beside the results (above them on a phone), so that a batch of
hundreds of files does not push the results off the screen. A file that cannot be read becomes a row with its
error; the others still finish.
"""
from __future__ import annotations

import logging
import shutil
import time
from typing import NamedTuple

import gradio as gr

from glasses import ImageError
from glasses.prediction import columns
from webapp.batch_files import GALLERY_MAX, BatchFiles
from webapp.batch_inputs import BatchItem, batch_items
from webapp.context import AppContext
from webapp.face_table import batch_table, count_columns, counts, summary
from webapp.limits import BATCH_TIME_BUDGET_S
from webapp.result_files import result_folder
from webapp.shared_predictor import SHOWN_SIDE, UNEXPECTED_ERROR, SharedPredictor

log = logging.getLogger(__name__)
_FOLDER_PREFIX = "glasses-batch-"   # each run's files sit in a folder of their own, so they keep plain names
FILE_LIST_HEIGHT = 180   # pixels: the dropped files scroll inside this box


class BatchResult(NamedTuple):
    """What the tab shows, in the order of the `batch` endpoint's outputs."""

    table: list[list]
    csv_path: str
    summary: str
    counts: list[list[int]]
    gallery: list[tuple[str, str]]
    zip_path: str | None


def build_batch_tab(context: AppContext) -> None:
    predictor = context.predictor
    with gr.Row(equal_height=False, elem_id="batch-row"):
        with gr.Column(scale=1, min_width=280):
            files = gr.File(label="Photos, or zips of photos", file_count="multiple", type="filepath",
                            height=FILE_LIST_HEIGHT, elem_id="batch-files")
            run = gr.Button("Classify all", variant="primary", elem_id="batch-run")
            tally = gr.Dataframe(headers=count_columns(predictor.labels), label="Counts", interactive=False, elem_id="batch-counts")
            verdict = gr.Markdown(elem_id="batch-summary")
            download = gr.File(label="CSV", interactive=False, elem_id="batch-csv")
            drawings = gr.File(label="Photos with their faces drawn (zip)", interactive=False, elem_id="batch-zip")
        with gr.Column(scale=2, min_width=300):
            gallery = gr.Gallery(label=f"Faces drawn (the first {GALLERY_MAX} photos; all are in the zip)",
                                 columns=4, height=460, object_fit="contain", interactive=False,
                                 buttons=["download", "fullscreen"], elem_id="batch-gallery")
    table = gr.Dataframe(headers=list(columns(predictor.labels)), label="One row per face", interactive=False, elem_id="batch-table")

    def on_run(files: list[str] | None, progress=gr.Progress()):
        return tuple(classify_batch(predictor, files or [], progress))

    run.click(on_run, files, [table, download, verdict, tally, gallery, drawings], api_name="batch")


def classify_batch(predictor: SharedPredictor, paths: list[str], progress,
                   budget_s: float = BATCH_TIME_BUDGET_S) -> BatchResult:
    """Table, CSV, summary, counts, gallery and zip of every file in `paths` (zips walked); files not begun
    within `budget_s` seconds of the start are rows saying so, so one visitor's batch cannot hold the queue for
    long. Each photo is drawn and written as its Prediction arrives (webapp/batch_files.py)."""
    if not paths:
        raise gr.Error("Drop some photos (or a zip of photos) first", print_exception=False)
    items = batch_items(paths)
    results = predictor.predict_many(_within_budget(items, budget_s), unexpected=_unexpected, show_side=SHOWN_SIDE)
    folder = result_folder(_FOLDER_PREFIX)
    rows: list[dict] = []
    try:
        with BatchFiles(folder, columns(predictor.labels)) as written:
            for prediction in progress.tqdm(results, total=len(items), desc="Classifying", unit="files"):
                written.add(prediction)
                rows += prediction.rows()
    except BaseException:   # a run cut short leaves no file that Gradio was never handed, to delete
        shutil.rmtree(folder, ignore_errors=True)
        raise
    zip_path = None if written.zip_path is None else str(written.zip_path)
    labels = predictor.labels
    return BatchResult(batch_table(rows, labels), str(written.csv_path), summary(rows, labels),
                       counts(len(items), rows, labels), written.gallery, zip_path)


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
