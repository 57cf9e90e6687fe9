"""The Relabel tab's handlers against a real review database: what a click or key stores, what it refuses."""
from __future__ import annotations

import subprocess
import sys
import warnings
from types import SimpleNamespace

import gradio as gr
import pytest

from glasses import load_image

from relabel.store import ReviewStore
from tests.conftest import REPO
from tests.relabel_fixtures import data_folder, manifest_rows, write_csv
from webapp.context import AppContext
from webapp.relabel_tab import _filters, decide, refilter, undo_last
from webapp.review_desk import ReviewDesk

LABELS = [1, 0, 1, 0]
PRED_PROB = [0.05, 0.9, 0.4, 0.2]   # ranked img00, img01, img02, img03


class NoModel:
    """The desk needs the model only for manifests without pred_prob; these have one."""
    weights = REPO / "weights" / "glasses.pt"

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

        def predict(self, data):
            index = load_image(data).getpixel((0, 0))[0]   # data_folder's image i is grey level i
            return [SimpleNamespace(glasses_prob=[0.9, 0.8, 0.1][index], box=(1, 1, 6, 6))]

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
    with pytest.raises(gr.Error, match="a given label is 1 \\(glasses\\) or 0 \\(no glasses\\), not"):
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

    model = SimpleNamespace(threshold=0.5, weights=REPO / "weights" / "glasses.pt")
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
