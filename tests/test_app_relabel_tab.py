"""The Relabel tab's handlers against a real review database: what a click or key stores, what it refuses."""
from __future__ import annotations

import subprocess
import sys
import warnings
from types import SimpleNamespace

import gradio as gr
import pytest

from glasses.labels import GLASSES_LABELS

from glasses import load_image

from relabel.store import ReviewStore
from tests.conftest import REPO
from tests.relabel_fixtures import data_folder, manifest_rows, write_csv
from webapp.context import AppContext
from webapp.relabel_tab import (GRID, _filters, accept_page, decide, export, refilter, show_mode, stats_view,
                                undo_chosen, undo_last)
from webapp.review_desk import ReviewDesk

LABELS = [1, 0, 1, 0]
PRED_PROB = [0.05, 0.9, 0.4, 0.2]   # ranked img00, img01, img02, img03


class NoModel:
    """The desk runs the model only for manifests without pred_prob (these have one); it reads its labels."""
    weights = REPO / "weights" / "glasses.pt"
    labels = GLASSES_LABELS

    def predict(self, image):
        raise AssertionError("the model ran although the manifest has pred_prob")


@pytest.fixture
def desk(tmp_path):
    data = data_folder(tmp_path, len(LABELS))
    manifest = write_csv(tmp_path / "manifest.csv", manifest_rows(LABELS, PRED_PROB))
    return ReviewDesk.open(manifest, data, tmp_path / "reviews.sqlite", NoModel())


def start(desk, reviewer="ana"):
    return desk.session(reviewer, _filters(desk.sources, ["0", "1"], ["unreviewed"]))


def shown_path(view) -> str:
    return view[1]


def button_text(view, index) -> str:
    return view[index]["value"]


KEEP_BUTTON, FLIP_BUTTON, LAST, HISTORY, PAGE, GRID_HTML = 5, 6, 7, 8, 9, 10


def test_a_decision_is_stored_and_the_next_image_shown(desk):
    session = start(desk)
    view = decide(session, "imgs/img00.png", "flip")
    assert shown_path(view) == "imgs/img01.png"
    assert "Rank 2 of 4" in view[3] and "`imgs/img01.png`" in view[3]
    assert view[2].size == (640, 640)   # the 8 px image, enlarged to be seen
    assert "Reviewed 1 of 4" in view[4] and "labels changed 1" in view[4] and "by you 1" in view[4]
    [decision] = ReviewStore(desk.store.path).current()["imgs/img00.png"]
    assert (decision.reviewer, decision.kind, decision.old_label, decision.new_label) == ("ana", "flip", 1, 0)


def test_without_pred_prob_the_apps_model_ranks_and_the_face_box_shows(tmp_path):
    class Model:
        weights = REPO / "weights" / "glasses.pt"
        labels = GLASSES_LABELS

        def predict(self, data):
            index = load_image(data).getpixel((0, 0))[0]   # data_folder's image i is grey level i
            return [SimpleNamespace(prob=[0.9, 0.8, 0.1][index], box=(1, 1, 6, 6))]

    data = data_folder(tmp_path, 3)
    manifest = write_csv(tmp_path / "manifest.csv", manifest_rows([1, 0, 1]))
    desk = ReviewDesk.open(manifest, data, tmp_path / "reviews.sqlite", Model())
    session = start(desk)
    assert session.probabilities.startswith("current model glasses.pt")
    view = refilter(session, desk.sources, ["0", "1"], ["unreviewed"])
    assert shown_path(view) == "imgs/img02.png"   # label 1, model 0.1: the most suspect
    assert view[2].getpixel((80, 200)) == (255, 60, 60)   # the box's left edge, enlarged 80 times


def test_a_key_pressed_before_the_next_image_showed_records_nothing(desk):
    session = start(desk)
    decide(session, "imgs/img00.png", "keep")
    with pytest.warns(UserWarning, match="nothing was recorded"):
        view = decide(session, "imgs/img00.png", "flip")   # the browser still showed img00
    assert shown_path(view) == "imgs/img01.png"
    assert set(ReviewStore(desk.store.path).current()) == {"imgs/img00.png"}


def test_undo_shows_the_image_again_and_takes_the_decision_back(desk):
    session = start(desk)
    decide(session, "imgs/img00.png", "no_face")
    view = undo_last(session)
    assert shown_path(view) == "imgs/img00.png" and "Reviewed 0 of 4" in view[4]
    assert ReviewStore(desk.store.path).current() == {}


def test_two_reviewers_share_the_work_and_see_each_others_decisions(desk):
    ana, ben = start(desk, "ana"), start(desk, "ben")
    decide(ana, "imgs/img00.png", "keep")
    view = decide(ben, "imgs/img00.png", "keep")   # ben saw img00 before ana decided it
    assert shown_path(view) == "imgs/img01.png"     # and moves past it: it is decided now
    view = refilter(ben, desk.sources, ["0", "1"], ["kept"])
    assert shown_path(view) == "imgs/img00.png" and "ana=1; ben=1" in view[3]


def test_filters_narrow_the_queue_and_an_empty_one_says_so(desk):
    session = start(desk)
    assert shown_path(refilter(session, desk.sources, [0], ["unreviewed"])) == "imgs/img01.png"
    view = refilter(session, desk.sources, ["0", "1"], ["disputed"])
    assert shown_path(view) == "" and view[2] is None and "Nothing left under these filters" in view[3]
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # a key on the empty queue is no late key: no warning, nothing stored
        assert shown_path(decide(session, "", "keep")) == ""
    assert ReviewStore(desk.store.path).current() == {}
    with pytest.raises(gr.Error, match="Tick at least one status"):
        refilter(session, desk.sources, ["0", "1"], [])


@pytest.mark.parametrize("label", ["abc", "2", "1.0", None])
def test_a_given_label_a_caller_makes_up_is_refused_in_words(desk, label):
    """The label filter's values come from the caller (Gradio's API): anything but "1"/"0" (or 1/0) is named
    in the refusal, never an int() traceback."""
    with pytest.raises(gr.Error, match="a given label is 1 or 0, not"):
        refilter(start(desk), desk.sources, [label], ["unreviewed"])


def test_deciding_before_starting_asks_for_a_name(desk):
    with pytest.raises(gr.Error, match="Type your name"):
        decide(None, "", "keep")
    with pytest.raises(gr.Error, match="Type your name"):
        undo_last(None)
    with pytest.raises(ValueError, match="reviewer name"):
        start(desk, "  ")


@pytest.mark.parametrize("reviewing", [False, True])
def test_the_relabel_tab_is_shown_only_when_the_app_reviews_a_manifest(desk, reviewing):
    """Relabel is the operator's tool: a visitor of an app started without --manifest never sees it."""
    from webapp.ui import build_ui

    model = SimpleNamespace(threshold=0.5, weights=REPO / "weights" / "glasses.pt", labels=GLASSES_LABELS)
    demo = build_ui(AppContext(predictor=model, desk=desk if reviewing else None))
    tabs = [block.label for block in demo.blocks.values() if isinstance(block, gr.Tab)]
    assert tabs == ["Classify", "Batch", "Model"] + ["Relabel"] * reviewing


def test_app_refuses_a_bad_manifest_before_serving(tmp_path):
    data = data_folder(tmp_path, 2)
    rows = manifest_rows([1, 0])
    rows[1]["path"] = "../outside.png"
    manifest = write_csv(tmp_path / "manifest.csv", rows)
    result = subprocess.run([sys.executable, "app.py", "--manifest", str(manifest), "--data", str(data)],
                            cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    assert "cannot review" in result.stderr and "manifest.csv" in result.stderr and "line 3" in result.stderr
    assert "Traceback" not in result.stderr


def grid_answer(page, flip=()) -> str:
    import json
    return json.dumps({"page": page.token, "flip": list(flip)})


def test_keep_and_flip_name_the_label_and_the_last_decision_is_said_in_words(desk):
    session = start(desk)
    view = decide(session, "imgs/img00.png", "flip")   # img00 is labelled glasses; img01 next, no glasses
    assert button_text(view, KEEP_BUTTON) == "Keep: no glasses [K]"
    assert button_text(view, FLIP_BUTTON) == "Flip to glasses [F]"
    assert view[LAST].startswith("**Recorded:** flipped `img00.png` to no glasses.")
    view = undo_last(session)
    assert view[LAST].startswith("**Undone:** flipped `img00.png` to no glasses") and shown_path(view) == "imgs/img00.png"


def test_a_grid_page_records_exactly_its_crops_keep_or_flip_as_the_browser_shows_them(desk):
    session = start(desk)
    view = show_mode(session, GRID)
    page = view[PAGE]
    assert [item.path for item in page.items] == ["imgs/img00.png", "imgs/img01.png", "imgs/img02.png",
                                                  "imgs/img03.png"]
    html = view[GRID_HTML]
    assert html.count('class="review-tile"') == 4 and f'data-page="{page.token}"' in html
    assert html.count("data:image/jpeg;base64,") == 4 and "flip to no glasses" in html
    view = accept_page(session, page, grid_answer(page, flip=[0, 3]))
    current = ReviewStore(desk.store.path).current()
    assert {path: (d.reviewer, d.kind) for path, [d] in current.items()} == {
        "imgs/img00.png": ("ana", "flip"), "imgs/img01.png": ("ana", "keep"), "imgs/img02.png": ("ana", "keep"),
        "imgs/img03.png": ("ana", "flip")}
    assert "This pass is done" in view[GRID_HTML] and "Reviewed 4 of 4" in view[4]
    assert view[LAST].startswith("**Recorded:** a page of 4: flipped `img00.png` to no glasses, flipped "
                                 "`img03.png` to glasses; 2 kept")
    view = undo_last(session, GRID)   # the whole page back, and on screen again
    assert ReviewStore(desk.store.path).current() == {} and len(view[PAGE].items) == 4


def test_an_answer_for_another_page_or_a_crop_it_lacks_records_nothing(desk):
    session = start(desk)
    page = show_mode(session, GRID)[PAGE]
    newer = show_mode(session, GRID)[PAGE]                # the page the browser has not received yet
    with pytest.warns(UserWarning, match="before the next page showed"):
        view = accept_page(session, newer, grid_answer(page))
    assert all(isinstance(value, type(gr.skip())) for value in view)
    for bad in [grid_answer(newer, flip=[4]), grid_answer(newer, flip=[True]), "not json", '{"page": 1}', None,
                "x" * 5000]:
        with pytest.raises(gr.Error):
            accept_page(session, newer, bad)
    assert ReviewStore(desk.store.path).current() == {}


def test_undo_pressed_while_a_page_is_being_accepted_takes_back_that_page_not_the_decision_before(desk, monkeypatch):
    """Gradio runs a browser's Accept and Undo events at once: the undo waits for the page to be stored."""
    import threading
    import time

    session = start(desk)
    decide(session, "imgs/img00.png", "keep")
    page = show_mode(session, GRID)[PAGE]
    record_many, storing = session.store.record_many, threading.Event()

    def slow_record_many(*args, **kwargs):
        storing.set()
        time.sleep(0.5)   # the page's transaction, on a busy disk
        return record_many(*args, **kwargs)

    monkeypatch.setattr(session.store, "record_many", slow_record_many)
    accepting = threading.Thread(target=accept_page, args=(session, page, grid_answer(page, flip=[0])))
    accepting.start()
    assert storing.wait(30)
    view = undo_last(session, GRID)   # Z, while the page is being stored
    accepting.join()
    assert view[LAST].startswith("**Undone:** a page of 3")
    assert {path: d.kind for path, [d] in ReviewStore(desk.store.path).current().items()} == {"imgs/img00.png": "keep"}


def test_a_decision_chosen_from_the_history_is_undone_and_hostile_choices_refused(desk):
    session = start(desk)
    decide(session, "imgs/img00.png", "keep")
    view = decide(session, "imgs/img01.png", "flip")
    choices = view[HISTORY]["choices"]
    assert [label.split(" · ")[1] for label, _ in choices] == ["flipped img01.png to glasses",
                                                               "kept img00.png as glasses"]
    last, history, _ = undo_chosen(session, choices[1][1])   # img00's keep
    assert last.startswith("**Undone:** kept `img00.png` as glasses") and len(history["choices"]) == 1
    assert set(ReviewStore(desk.store.path).current()) == {"imgs/img01.png"}
    ben = start(desk, "ben")
    decide(ben, ben.current.path, "keep")
    bens = ReviewStore(desk.store.path).recent("ben", 1)[0][0].id
    for hostile in [bens, "1 OR 1=1", ["1"], -1, None]:
        with pytest.raises(gr.Error):
            undo_chosen(session, hostile)
    assert len(ReviewStore(desk.store.path).current()) == 2


def test_statistics_show_each_reviewers_decisions_and_the_pairs_kappa(desk):
    assert stats_view(desk) == "No decisions yet."
    ana, ben = start(desk, "ana"), start(desk, "ben")
    for path, kind in [("imgs/img00.png", "keep"), ("imgs/img01.png", "flip")]:
        decide(ana, path, kind)
    for path in ["imgs/img00.png", "imgs/img01.png"]:
        ben.set_filters(_filters(desk.sources, ["0", "1"], ["kept", "flipped"]))
        while ben.current is not None and ben.current.path != path:
            ben.decide("skip")
        decide(ben, path, "keep")
    text = stats_view(desk)
    assert "| ana | 2 | 2 |" in text and "| ben | 2 |" in text
    # both kept img00 (label 1) and split on img01: p_o 1/2, p_e 1/2 (ana 1, 1; ben 1, 0): kappa 0
    assert "| ana · ben | 2 | 1 | 0.00 | `img01.png` |" in text


def test_export_writes_the_corrected_manifest_where_the_operator_said(tmp_path):
    from tests.relabel_fixtures import read_csv

    data = data_folder(tmp_path, len(LABELS))
    manifest = write_csv(tmp_path / "manifest.csv", manifest_rows(LABELS, PRED_PROB))
    out = tmp_path / "out" / "corrected.csv"
    out.parent.mkdir()
    desk = ReviewDesk.open(manifest, data, tmp_path / "reviews.sqlite", NoModel(), export_to=out)
    session = start(desk)
    decide(session, "imgs/img00.png", "flip")
    decide(session, "imgs/img01.png", "no_face")
    said = export(desk)
    assert said.startswith(f"**Wrote 3 of 4 rows** to `{out}` (1 labels flipped). 1 rows left out (no face 1")
    rows = read_csv(out)
    assert [(r["path"], r["label"]) for r in rows] == [("imgs/img00.png", "0"), ("imgs/img02.png", "1"),
                                                       ("imgs/img03.png", "0")]
    assert [r["path"] for r in read_csv(tmp_path / "out" / "corrected.held_out.csv")] == ["imgs/img01.png"]
    with pytest.raises(gr.Error, match="without --export"):
        export(ReviewDesk.open(manifest, data, tmp_path / "reviews.sqlite", NoModel()))


@pytest.mark.parametrize("out", ["manifest.csv", "reviews.sqlite", "reviews.sqlite-wal", "manifest.held_out.csv"])
def test_an_export_file_that_would_replace_an_input_is_refused_before_serving(tmp_path, out):
    """OUT and OUT.held_out.csv beside it are written: neither may be the manifest or the database."""
    from relabel.export import ExportError

    data = data_folder(tmp_path, 2)
    manifest_name = "manifest.csv" if out != "manifest.held_out.csv" else "manifest.held_out.csv"
    manifest = write_csv(tmp_path / manifest_name, manifest_rows([1, 0], [0.1, 0.2]))
    export_to = tmp_path / ("manifest.csv" if out == "manifest.held_out.csv" else out)
    with pytest.raises(ExportError, match="would overwrite"):
        ReviewDesk.open(manifest, data, tmp_path / "reviews.sqlite", NoModel(), export_to=export_to)


def test_a_grid_tile_shows_names_as_text_and_says_why_an_image_cannot_be_shown(tmp_path):
    from relabel.session import Item
    from webapp.review_grid import GridPage, page_html

    hostile = 'imgs/"><img src=x onerror=alert(1)>.png'
    item = Item(path=hostile, data_root=tmp_path, source="s", label=0, pred_prob=None, score=None, rank=1, of=1,
                box=None, status="unreviewed")
    html = page_html(GridPage("t0ken", (item,)), "empty")
    assert "<img src=x" not in html and "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;.png" in html
    assert "cannot be shown" in html and "no face found" in html and "flip to glasses" in html
    assert page_html(None, "Type <your> name") == '<div class="review-empty">Type &lt;your&gt; name</div>'


def test_app_refuses_an_export_over_its_manifest_before_serving(tmp_path):
    data = data_folder(tmp_path, 2)
    manifest = write_csv(tmp_path / "manifest.csv", manifest_rows([1, 0], [0.1, 0.2]))
    before = manifest.read_bytes()
    result = subprocess.run([sys.executable, "app.py", "--manifest", str(manifest), "--data", str(data),
                             "--export", str(manifest)], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"cannot review: --export {manifest} would overwrite the manifest it reads" in result.stderr
    assert manifest.read_bytes() == before and not (tmp_path / "reviews.sqlite").exists()


def test_export_without_a_manifest_is_refused_rather_than_ignored(capsys):
    import app

    with pytest.raises(SystemExit) as stopped:
        app.main(["--export", "corrected.csv"])
    assert stopped.value.code == 2
    assert "--export writes the Relabel tab's corrected manifest: it needs --manifest" in capsys.readouterr().err
