"""relabel.session: the queue a reviewer works through, as the app's Relabel tab drives it."""
from __future__ import annotations

import pytest
from PIL import Image

from glasses.manifest import load_manifest
from relabel import outcome
from relabel.faces import FaceBoxes
from relabel.session import Filters, ReviewSession
from relabel.store import FLIP, KEEP, NO_FACE, SKIP, UNSURE, ReviewStore
from relabel.suspects import Ranking, Suspect
from tests.relabel_fixtures import data_folder, manifest_rows, write_csv

LABELS = [0, 1, 0, 1, 0, 1]
PRED_PROB = [0.9, 0.1, 0.7, 0.3, 0.2, 0.95]
SOURCES = ["olivetti", "olivetti", "cmu_faces", "cmu_faces", "olivetti", "cmu_faces"]
ORDER = ["imgs/img00.png", "imgs/img01.png", "imgs/img02.png", "imgs/img03.png", "imgs/img04.png", "imgs/img05.png"]


@pytest.fixture
def setup(tmp_path):
    """A manifest and a ranking in file order (made here: the session's behaviour, not the ranking's, is tested)."""
    data = data_folder(tmp_path, len(LABELS))
    manifest = load_manifest(write_csv(tmp_path / "m.csv", manifest_rows(LABELS, PRED_PROB, SOURCES)), data)
    ranking = Ranking([Suspect(row["path"], row["label"], row["source"], p, score=i / 10, rank=i + 1, box=None)
                       for i, (row, p) in enumerate(zip(manifest.rows, PRED_PROB))], "test probabilities")
    return manifest, ranking, ReviewStore(tmp_path / "reviews.sqlite")


def session_for(setup, reviewer="ana", **kwargs):
    return ReviewSession(*setup, reviewer, **kwargs)


def walk(session) -> list[str]:
    """Paths the queue shows, skipping through all of them."""
    seen = []
    while session.current is not None and session.current.path not in seen:
        seen.append(session.current.path)
        session.decide(SKIP)
    return seen


def test_the_first_item_is_the_most_suspect_with_what_the_screen_needs(setup):
    session = session_for(setup)
    item = session.current
    assert (item.path, item.label, item.pred_prob, item.rank, item.of, item.status) == \
        ("imgs/img00.png", 0, 0.9, 1, 6, outcome.UNREVIEWED)
    assert item.image_path.is_file() and item.score == 0.0 and item.decisions == ()
    assert item.read_image_bytes() == item.image_path.read_bytes()
    assert session.probabilities == "test probabilities"


def test_decisions_are_stored_at_once_and_the_queue_moves_on(setup):
    session = session_for(setup)
    following = session.decide(FLIP)
    assert following.path == ORDER[1] and session.current == following
    stored = setup[2].current()[ORDER[0]]
    assert [(d.reviewer, d.kind, d.old_label, d.new_label) for d in stored] == [("ana", FLIP, 0, 1)]
    session.decide(KEEP)
    progress = session.progress()
    assert (progress.total, progress.reviewed, progress.changed, progress.mine, progress.left) == (6, 2, 1, 2, 4)


def test_undo_takes_back_the_last_decision_and_shows_its_item_again(setup):
    session = session_for(setup)
    session.decide(FLIP)
    session.decide(NO_FACE)
    back = session.undo()
    assert back.path == ORDER[1] and back.status == outcome.UNREVIEWED
    assert session.undo().path == ORDER[0]
    assert session.progress().reviewed == 0
    assert session.decide(KEEP).path == ORDER[1]
    assert session.undo().path == ORDER[0]
    assert session_for(setup, "ben").undo().path == ORDER[0]  # nothing of ben's to undo: unchanged


def test_skipped_items_leave_my_queue_but_not_anyone_elses(setup):
    ana = session_for(setup)
    ana.decide(SKIP)
    assert ana.current.path == ORDER[1]
    assert session_for(setup).current.path == ORDER[1]          # a new session of ana's too
    assert session_for(setup, "ben").current.path == ORDER[0]
    assert ana.set_filters(Filters(statuses=frozenset({outcome.SKIPPED}))).path == ORDER[0]
    assert ana.progress().reviewed == 0


def test_reviewers_share_the_work_and_their_disagreement_shows(setup):
    ana, ben = session_for(setup), session_for(setup, "ben")
    ana.decide(FLIP)                                             # both were shown img00
    assert ben.current.path == ORDER[0]
    ben.decide(KEEP)                                             # ben decides it too, the other way
    assert ben.current.path == ORDER[1]                          # and is not shown it again
    disputed = Filters(statuses=frozenset({outcome.DISPUTED}))
    item = ana.set_filters(disputed)
    assert (item.path, item.status) == (ORDER[0], outcome.DISPUTED)
    assert {(d.reviewer, d.kind) for d in item.decisions} == {("ana", FLIP), ("ben", KEEP)}
    assert ana.progress().disputed == 1 and ana.progress().changed == 0
    ana.decide(KEEP)                                             # ana changes her mind: they agree now
    assert outcome.status(0, setup[2].current()[ORDER[0]]) == outcome.KEPT


def test_a_decision_by_another_reviewer_meanwhile_is_passed_over(setup):
    ana, ben = session_for(setup), session_for(setup, "ben")
    ben.decide(KEEP)
    ben.decide(KEEP)                                             # ben took img00 and img01
    assert ana.decide(UNSURE).path == ORDER[2]                  # ana's img00 recorded; img01 is done: skip to img02


@pytest.mark.parametrize("filters, expected", [
    (Filters(sources=frozenset({"cmu_faces"})), [ORDER[2], ORDER[3], ORDER[5]]),
    (Filters(labels=frozenset({1})), [ORDER[1], ORDER[3], ORDER[5]]),
    (Filters(sources=frozenset({"olivetti"}), labels=frozenset({0})), [ORDER[0], ORDER[4]]),
])
def test_filters_by_source_and_label_keep_the_ranking_order(setup, filters, expected):
    session = session_for(setup, filters=filters)
    assert session.progress().left == len(expected)
    assert walk(session) == expected


def test_status_filters_bring_decided_rows_back(setup):
    session = session_for(setup)
    for kind in (FLIP, KEEP, NO_FACE, UNSURE):
        session.decide(kind)
    for status, path in ((outcome.FLIPPED, ORDER[0]), (outcome.KEPT, ORDER[1]), (outcome.NO_FACE, ORDER[2]),
                         (outcome.UNSURE, ORDER[3])):
        assert session.set_filters(Filters(statuses=frozenset({status}))).path == path
    everything = Filters(statuses=frozenset(outcome.STATUSES))
    session.set_filters(everything)
    assert session.progress().left == 6
    progress = session.progress()
    assert (progress.reviewed, progress.changed, progress.no_face, progress.unsure) == (4, 1, 1, 1)


FLIPPED = Filters(statuses=frozenset({outcome.FLIPPED}))


def test_a_second_look_pass_shows_each_row_once_then_says_it_is_done(setup):
    ben = session_for(setup, "ben")
    ben.decide(FLIP)
    ben.decide(FLIP)                                             # img00 and img01 flipped
    ana = session_for(setup, filters=FLIPPED)
    assert (ana.current.path, ana.progress().left) == (ORDER[0], 2)
    assert ana.decide(FLIP).path == ORDER[1]                     # ana agrees: img00 stays flipped
    assert ana.decide(SKIP) is None                              # ana passes img01 by: it stays flipped
    progress = ana.progress()
    assert (progress.changed, progress.left, progress.looked_at, ana.pass_done) == (2, 0, 2, True)
    written = len(setup[2].history())
    assert ana.decide(KEEP) is None and len(setup[2].history()) == written


def test_confirming_my_own_flips_ends_the_pass(setup):
    ana = session_for(setup)
    ana.decide(FLIP)
    ana.decide(FLIP)
    assert ana.set_filters(FLIPPED).path == ORDER[0]
    ana.decide(FLIP)                                             # keeps the flipped label
    assert ana.decide(FLIP) is None and ana.current is None
    assert (ana.progress().left, ana.progress().changed, ana.pass_done) == (0, 2, True)


def finished_flipped_pass(setup) -> ReviewSession:
    """ana's session after she flipped the two most suspect rows, then confirmed both under 'flipped'."""
    ana = session_for(setup)
    ana.decide(FLIP)
    ana.decide(FLIP)
    ana.set_filters(FLIPPED)
    ana.decide(FLIP)
    ana.decide(FLIP)
    return ana


@pytest.mark.parametrize("again", [lambda s: s.restart(), lambda s: s.set_filters(FLIPPED)],
                         ids=["restart", "set_filters"])
def test_a_new_pass_shows_the_rows_again(setup, again):
    ana = finished_flipped_pass(setup)
    assert again(ana).path == ORDER[0]
    progress = ana.progress()
    assert (progress.left, progress.looked_at, ana.pass_done) == (2, 0, False)
    assert walk(ana) == ORDER[:2] and ana.pass_done


def test_undo_brings_back_an_item_of_a_finished_pass(setup):
    ana = finished_flipped_pass(setup)
    assert ana.undo().path == ORDER[1] and not ana.pass_done
    assert (ana.progress().left, ana.progress().looked_at) == (1, 1)
    assert ana.decide(FLIP) is None and ana.pass_done


def test_the_unreviewed_pass_still_picks_up_rows_another_reviewer_left_undone(setup):
    ana, ben = session_for(setup), session_for(setup, "ben")
    ben.decide(SKIP)
    ben.decide(KEEP)                                             # ben takes img01
    assert ana.decide(KEEP).path == ORDER[2]                    # so ana's pass goes by it
    for _ in range(3):
        ana.decide(KEEP)
    assert ana.current.path == ORDER[5]
    ben.undo()                                                   # ben leaves img01 undone after all
    assert ana.decide(KEEP).path == ORDER[1]                    # wrapping round, ana's pass picks it up
    assert ana.decide(KEEP) is None and ana.pass_done
    progress = ana.progress()
    assert (progress.reviewed, progress.left, progress.looked_at) == (6, 0, 6)


def test_the_end_of_the_queue_is_none_and_deciding_there_does_nothing(setup):
    session = session_for(setup, filters=Filters(sources=frozenset({"yalefaces"})))
    assert session.current is None and session.decide(KEEP) is None
    assert setup[2].history() == []
    assert not session.pass_done                                 # nothing was shown: not a finished pass


def test_bad_arguments_are_refused(setup):
    with pytest.raises(ValueError, match="reviewer name"):
        session_for(setup, "  ")
    with pytest.raises(ValueError, match="holds '='"):
        session_for(setup, "ana=1")
    with pytest.raises(ValueError, match="unknown decision 'maybe'"):
        session_for(setup).decide("maybe")
    with pytest.raises(ValueError, match="unknown status"):
        Filters(statuses=frozenset({"done"}))


class FakeDetector:
    """Two faces in every image; records which images it was asked about."""

    def __init__(self):
        self.seen = []

    def detect(self, image):
        self.seen.append(image.size)
        from glasses.detect import Detection
        return [Detection((1.2, 2.6, 30.4, 40.0), 0.99), Detection((0, 0, 5, 5), 0.95)]


def test_boxes_are_found_for_rankings_without_them_and_the_next_one_ahead(setup, tmp_path):
    for i, path in enumerate(ORDER):
        Image.new("L", (10 + i, 10)).save(setup[0].data_root / path)   # sizes tell the images apart
    detector = FakeDetector()
    session = session_for(setup, faces=FaceBoxes(detector))
    assert session.current.box == (1, 3, 30, 40)
    session.faces._worker.shutdown(wait=True)                    # let the look-ahead finish
    assert detector.seen == [(10, 10), (11, 10)]                # the current image, then the next one


def test_unreadable_images_have_no_box(tmp_path):
    (tmp_path / "broken.png").write_text("not a png")
    assert FaceBoxes(FakeDetector()).get(tmp_path, "broken.png") is None


def test_one_face_finder_serves_several_threads_at_once(tmp_path):
    from concurrent.futures import ThreadPoolExecutor
    paths = []
    for i in range(12):
        paths.append(f"{i}.png")
        Image.new("L", (10 + i, 10)).save(tmp_path / paths[-1])
    detector = FakeDetector()
    faces = FaceBoxes(detector)
    with ThreadPoolExecutor(4) as pool:
        boxes = list(pool.map(lambda path: faces.get(tmp_path, path), paths * 3))
    assert boxes == [(1, 3, 30, 40)] * 36
    assert sorted(detector.seen) == sorted((10 + i, 10) for i in range(12))   # each image detected once


def test_a_name_typed_in_nfd_is_the_same_reviewer_as_in_nfc(setup):
    session_for(setup, "Jos\u00e9").decide(FLIP)
    again = session_for(setup, "Jose\u0301")
    assert again.reviewer == "Jos\u00e9" and again.progress().mine == 1


def test_a_page_is_the_next_rows_of_the_pass_and_deciding_it_records_each_in_one_go(setup):
    session = session_for(setup)
    session.decide(SKIP)                                  # img00 looked at in this pass
    page = session.page(3)
    assert [item.path for item in page] == ORDER[1:4] and session.current == page[0]
    assert setup[2].current() == {ORDER[0]: setup[2].current()[ORDER[0]]}   # a page records nothing by itself
    stored = session.decide_page({ORDER[1]: FLIP, ORDER[2]: KEEP, ORDER[3]: KEEP})
    assert [(d.path, d.kind, d.old_label) for d in stored] == [(ORDER[1], FLIP, 1), (ORDER[2], KEEP, 0),
                                                               (ORDER[3], KEEP, 1)]
    assert session.current.path == ORDER[4] and [item.path for item in session.page(5)] == ORDER[4:]
    with pytest.raises(ValueError, match="not a row"):
        session.decide_page({"imgs/elsewhere.png": KEEP})


def test_undo_after_a_page_takes_the_whole_page_back_then_one_decision_at_a_time(setup):
    session = session_for(setup)
    session.decide(FLIP)                                  # img00
    session.decide_page({path: KEEP for path in ORDER[1:4]})
    assert session.undo().path == ORDER[1]                # the page's first row shows again
    assert session.last_change[0] == "undone" and len(session.last_change[1]) == 3
    assert set(setup[2].current()) == {ORDER[0]}
    assert [item.path for item in session.page(3)] == ORDER[1:4]
    assert session.undo().path == ORDER[0] and setup[2].current() == {}


def test_a_decision_chosen_from_the_history_is_undone_and_comes_round_again(setup):
    session = session_for(setup)
    first = session.decide_page({ORDER[0]: FLIP, ORDER[1]: KEEP})[0]
    assert [d.path for d in session.undo_chosen(first.id)] == [ORDER[0]]
    assert set(setup[2].current()) == {ORDER[1]} and session.current.path == ORDER[2]   # the screen stays
    assert [item.path for item in session.page(6)] == [ORDER[2], *ORDER[3:], ORDER[0]]   # wrapping round to it
    other = session_for(setup, "ben").decide_page({ORDER[2]: KEEP})[0]
    with pytest.raises(ValueError, match="not one of 'ana'"):
        session.undo_chosen(other.id)
