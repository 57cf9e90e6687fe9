"""relabel.contained: a data-folder file is checked when it is opened, not only when the manifest loads."""
from __future__ import annotations

import os
import threading

import pytest
from PIL import Image

from glasses.manifest import load_manifest
from relabel import contained
from relabel.contained import NotContained, read_contained
from relabel.faces import FaceBoxes
from relabel.session import ReviewSession
from relabel.store import ReviewStore
from relabel.suspects import Ranking, Suspect
from tests.relabel_fixtures import data_folder, manifest_rows, write_csv

IMAGE = "imgs/img00.png"


@pytest.fixture
def data(tmp_path):
    """A data folder whose manifest loaded fine, and a secret file beside (outside) it."""
    root = data_folder(tmp_path, 2)
    load_manifest(write_csv(tmp_path / "m.csv", manifest_rows([0, 1])), root)
    (tmp_path / "secret.txt").write_bytes(b"not for the browser")
    return root


def test_a_file_in_the_data_folder_reads(data):
    assert read_contained(data, IMAGE) == (data / IMAGE).read_bytes()


def test_a_symlink_swapped_in_after_the_manifest_loaded_is_refused(data):
    (data / IMAGE).unlink()
    (data / IMAGE).symlink_to(data.parent / "secret.txt")
    with pytest.raises(NotContained, match=f"{IMAGE}: leads out of the data folder"):
        read_contained(data, IMAGE)


def test_a_folder_swapped_for_a_symlink_out_is_refused(data, tmp_path):
    outside = tmp_path / "elsewhere"
    (data / "imgs").rename(outside)
    (data / "imgs").symlink_to(outside)
    with pytest.raises(NotContained, match="leads out of the data folder"):
        read_contained(data, IMAGE)


def test_a_symlink_within_the_data_folder_is_fine(data):
    (data / "imgs/alias.png").symlink_to("img01.png")
    assert read_contained(data, "imgs/alias.png") == (data / "imgs/img01.png").read_bytes()


def test_a_data_folder_reached_through_a_symlink_is_fine(data, tmp_path):
    (tmp_path / "link").symlink_to(data)
    assert read_contained(tmp_path / "link", IMAGE) == (data / IMAGE).read_bytes()


@pytest.mark.parametrize("path", ["../secret.txt", "/etc/passwd"])
def test_paths_leading_out_are_refused(data, path):
    with pytest.raises(NotContained, match="leads out of the data folder"):
        read_contained(data, path)


def test_a_fifo_is_refused_without_hanging(data):
    (data / IMAGE).unlink()
    os.mkfifo(data / IMAGE)
    result = []
    reader = threading.Thread(target=lambda: result.append(_error(data, IMAGE)), daemon=True)
    reader.start()
    reader.join(5)
    assert not reader.is_alive(), "reading a FIFO hung"
    assert result == ["not a regular file"]


def test_a_folder_or_a_vanished_file_is_refused(data):
    (data / IMAGE).unlink()
    assert _error(data, IMAGE) == "gone from the data folder"
    assert _error(data, "imgs") == "not a regular file"


def test_a_symlink_swapped_in_between_resolving_and_opening_is_refused(data, monkeypatch):
    """The last part turned into a symlink after realpath looked: O_NOFOLLOW refuses to open it."""
    resolved = contained._resolved

    def swap_then_resolve(root, relative):
        path = resolved(root, relative)
        (data / IMAGE).unlink()
        (data / IMAGE).symlink_to(data.parent / "secret.txt")
        return path
    monkeypatch.setattr(contained, "_resolved", swap_then_resolve)
    assert _error(data, IMAGE).startswith("changed while being opened")


@pytest.mark.parametrize("proc", [True, False], ids=["proc", "no_proc"])
def test_a_folder_swapped_for_a_symlink_between_resolving_and_opening_is_refused(data, tmp_path, monkeypatch, proc):
    if not proc:
        monkeypatch.setattr(contained, "PROC_FD", str(tmp_path / "no-proc"))
    assert read_contained(data, IMAGE) == (data / IMAGE).read_bytes()
    resolved, calls = contained._resolved, []

    def swap_after_first(root, relative):
        calls.append(relative)
        path = resolved(root, relative)
        if len(calls) == 1:
            (tmp_path / "elsewhere").mkdir()
            (tmp_path / "elsewhere/img00.png").write_bytes(b"outside")
            (data / "imgs").rename(tmp_path / "old")
            (data / "imgs").symlink_to(tmp_path / "elsewhere")
        return path
    monkeypatch.setattr(contained, "_resolved", swap_after_first)
    assert _error(data, IMAGE) == "leads out of the data folder"


def test_the_review_screen_and_the_face_finder_read_through_it(data, tmp_path):
    manifest = load_manifest(write_csv(tmp_path / "m.csv", manifest_rows([0, 1])), data)
    ranking = Ranking([Suspect(row["path"], row["label"], row["source"], 0.5, score=0.1, rank=i + 1, box=None)
                       for i, row in enumerate(manifest.rows)], "test")
    Image.new("L", (20, 20)).save(tmp_path / "outside.png")     # an image the detector would take
    (data / IMAGE).unlink()
    (data / IMAGE).symlink_to(tmp_path / "outside.png")
    detector = RecordingDetector()
    session = ReviewSession(manifest, ranking, ReviewStore(tmp_path / "r.sqlite"), "ana", faces=FaceBoxes(detector))
    with pytest.raises(NotContained, match="leads out of the data folder"):
        session.current.read_image_bytes()
    assert session.current.box is None
    session.faces._worker.shutdown(wait=True)
    assert detector.seen == [(8, 8)]                             # only img01, the next one, reached the detector


class RecordingDetector:
    def __init__(self):
        self.seen = []

    def detect(self, image):
        self.seen.append(image.size)
        return []


def _error(data, path) -> str:
    try:
        read_contained(data, path)
    except NotContained as err:
        return err.reason
    return "read"
