"""`glasses predict --workers N` (glasses/parallel.py): the rows of one process, in its order, from N; a bad file or
a dying worker never stops or hangs the batch."""
from __future__ import annotations

import gc
import os
import shutil
import signal
import time
import zipfile
from collections import deque
from dataclasses import dataclass, replace

import pytest

from glasses.cli import main
from glasses.images import ImageError
from glasses.inputs import expand_inputs
from glasses.parallel import Settings, StartupError, WorkerError, WorkerPool
from glasses.predictor import Predictor
from tests.conftest import REPO
from tests.test_cli import run_captured


def finished_within(seconds: float, work):
    """work()'s result, or the error it raised; failing the test, instead of hanging it, after `seconds`."""
    import threading

    outcome = []

    def attempt():
        try:
            outcome.append((True, work()))
        except BaseException as err:  # noqa: BLE001 - handed to the test's thread as it is
            outcome.append((False, err))

    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    thread.join(seconds)
    assert outcome, f"still running after {seconds} s"
    ok, value = outcome[0]
    if not ok:
        raise value
    return value


EXAMPLES = REPO / "webapp" / "examples"


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """A folder of the app's example photos (faces, a group, none), twice over, a text file posing as a photo,
    an empty file, and a zip holding two photos and a corrupt member; then a missing file."""
    folder = tmp_path_factory.mktemp("photos")
    for copy in ("a", "b"):
        for photo in sorted(EXAMPLES.glob("*.jpg")):
            shutil.copy(photo, folder / f"{copy}_{photo.name}")
    (folder / "c_notes.jpg").write_text("not a photo\n")
    (folder / "d_empty.png").write_bytes(b"")
    with zipfile.ZipFile(folder / "e_photos.zip", "w") as archive:
        archive.write(EXAMPLES / "glasses.jpg", "day1/glasses.jpg")
        archive.writestr("day1/torn.jpg", (EXAMPLES / "no_glasses.jpg").read_bytes()[:2000])
        archive.write(EXAMPLES / "group.jpg", "group.jpg")
    return [str(folder), str(folder / "e_photos.zip"), str(folder / "missing.jpg")]


def run(paths, weights, *flags) -> tuple[int, str, str]:
    return run_captured(["predict", *paths, "--weights", str(weights), "--quiet", *flags])


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "json", "table"])
def test_two_workers_write_what_one_process_writes(photos, random_weights, fmt):
    one = run(photos, random_weights, "--format", fmt, "--workers", "1")
    two = run(photos, random_weights, "--format", fmt, "--workers", "2")
    assert two == one
    code, out, _ = one
    assert code == 1                                     # the bad files are rows, and the run went on
    assert "not an image" in out and "empty file" in out and "file not found" in out
    assert "e_photos.zip/day1/torn.jpg" in out and "e_photos.zip/group.jpg" in out


def test_workers_save_the_overlays_one_process_saves(photos, random_weights, tmp_path):
    for workers in ("1", "3"):
        code, _, err = run(photos[:1], random_weights, "--overlay", str(tmp_path / workers), "--workers", workers)
        assert code == 1, err
    saved = {str(p.relative_to(tmp_path / "1")): p.read_bytes() for p in (tmp_path / "1").rglob("*") if p.is_file()}
    assert saved and "a_group.jpg" in saved
    assert {str(p.relative_to(tmp_path / "3")): p.read_bytes()
            for p in (tmp_path / "3").rglob("*") if p.is_file()} == saved


def test_more_workers_than_photos_and_no_photo_at_all(photos, random_weights, tmp_path):
    one_photo = [str(EXAMPLES / "glasses.jpg")]
    assert run(one_photo, random_weights, "--format", "csv", "--workers", "4") == \
        run(one_photo, random_weights, "--format", "csv")
    (tmp_path / "empty").mkdir()
    assert run([str(tmp_path / "empty")], random_weights, "--format", "csv", "--workers", "2") == \
        (0, "name,width,height,face,x1,y1,x2,y2,face_prob,glasses_prob,label,error\n", "")


# ---------------------------------------------------------------- workers that die

class _Crashing(Predictor):
    """A Predictor whose process dies, as a decoder's crash kills one, on an image named *crash*."""

    def predict_item(self, item, *args, **kwargs):
        if isinstance(item, str) and "crash" in os.path.basename(item):
            os.kill(os.getpid(), signal.SIGKILL)
        return super().predict_item(item, *args, **kwargs)


@dataclass(frozen=True)
class CrashingSettings(Settings):
    def predictor(self):
        return _Crashing(self.weights, threads=self.threads)


def settings_for(weights, cls=Settings) -> Settings:
    return cls(weights=str(weights), threshold=None, min_face_size=40, max_side=2048,
               max_pixels=100_000_000, threads=1)


def predict_with(settings: Settings, inputs, workers: int = 2, **options):
    with WorkerPool(settings, workers, **options) as pool:
        return list(pool.predict(inputs, len(inputs)))


@pytest.fixture(scope="module")
def with_crash(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dying")
    for name in ("a.jpg", "b.jpg", "c_crash.jpg", "d.jpg", "e.jpg", "f.jpg"):
        shutil.copy(EXAMPLES / "glasses.jpg", folder / name)
    return expand_inputs([str(folder)])


def test_a_worker_that_dies_costs_only_its_photo_and_is_replaced(with_crash, random_weights):
    expected = predict_with(settings_for(random_weights), with_crash)
    got = finished_within(120, lambda: predict_with(settings_for(random_weights, CrashingSettings), with_crash))
    assert [p.name for p in got] == with_crash
    crashed = [p for p in got if p.error is not None]
    assert [p.name for p in crashed] == [with_crash[2]]
    assert crashed[0].error.startswith("the worker process predicting this image died (killed by SIGKILL)")
    assert [p for p in got if p.error is None] == [p for i, p in enumerate(expected) if i != 2]


class _CrashingWhileReading(Predictor):
    """Dies cutting the faces of an image named *crash*: in batched mode, after the window's earlier photos
    were read and before any is answered."""

    def _crops(self, source, scaled, boxes):
        if isinstance(source, str) and "crash" in os.path.basename(source):
            os.kill(os.getpid(), signal.SIGKILL)
        return super()._crops(source, scaled, boxes)


@dataclass(frozen=True)
class CrashingBatchedSettings(Settings):
    def predictor(self):
        return _CrashingWhileReading(self.weights, threads=self.threads)


def test_in_batched_mode_the_photo_a_worker_died_on_is_the_one_blamed(with_crash, random_weights):
    batched = replace(settings_for(random_weights), batch_size=4)
    expected = predict_with(batched, with_crash)
    crashing = replace(settings_for(random_weights, CrashingBatchedSettings), batch_size=4)
    got = finished_within(120, lambda: predict_with(crashing, with_crash))
    assert [p.name for p in got] == with_crash
    assert [p.name for p in got if p.error is not None] == [with_crash[2]]     # c_crash.jpg, not a.jpg
    assert [p for p in got if p.error is None] == [p for i, p in enumerate(expected) if i != 2]


def test_workers_that_keep_dying_end_the_run_with_an_error_not_a_hang(tmp_path, random_weights):
    for i in range(6):
        shutil.copy(EXAMPLES / "glasses.jpg", tmp_path / f"crash{i}.jpg")
    inputs = expand_inputs([str(tmp_path)])
    with pytest.raises(WorkerError, match=r"worker processes died 3 times \(the last: killed by SIGKILL\)"):
        finished_within(120, lambda: predict_with(settings_for(random_weights, CrashingSettings), inputs,
                                                  max_restarts=2))


def test_a_worker_that_cannot_build_its_predictor_says_why(tmp_path, random_weights):
    settings = settings_for(tmp_path / "missing.onnx")
    with pytest.raises(StartupError, match="model file not found"):
        finished_within(120, lambda: predict_with(settings, [str(EXAMPLES / "glasses.jpg")]))


def test_inputs_known_to_be_bad_reach_the_rows_through_the_workers(random_weights):
    inputs = [ImageError("locked", "permission denied"), str(EXAMPLES / "glasses.jpg")]
    got = predict_with(settings_for(random_weights), inputs, workers=1)
    assert [(p.name, p.error) for p in got] == [("locked", "permission denied"), (inputs[1], None)]


def test_bad_weights_with_workers_is_a_usage_error_naming_the_file(tmp_path, capsys):
    weights = tmp_path / "missing.onnx"
    with pytest.raises(SystemExit) as caught:
        main(["predict", str(EXAMPLES / "glasses.jpg"), "--weights", str(weights), "--workers", "2"])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert f"{weights}: model file not found" in err and "Traceback" not in err


# ---------------------------------------------------------------- how workers start and end

def test_workers_end_when_the_pool_closes_their_pipes(random_weights):
    """Forked workers inherit the main process's pipe ends; unless each closes them, no worker sees its pipe
    close, and closing the pool waits for a timeout, then terminates them."""
    pool = WorkerPool(settings_for(random_weights), 3)
    with pool:
        assert pool.labels().positive == "glasses"
        got = list(pool.predict([str(EXAMPLES / "glasses.jpg")] * 4, 4))
        assert [p.error for p in got] == [None] * 4
        while not all(worker.ready for worker in pool.workers):   # one still starting would be terminated
            pool._collect({}, {}, deque(), 0)
        processes = [worker.process for worker in pool.workers]
    assert [process.exitcode for process in processes] == [0, 0, 0]   # ended by their pipes, not by SIGTERM


def test_the_main_process_of_a_workers_run_builds_no_predictor(photos, random_weights, monkeypatch):
    """The workers are forked from it, which is safe because it holds no onnxruntime session of its own."""
    main_process, build = os.getpid(), Settings.predictor

    def only_in_a_worker(settings):
        assert os.getpid() != main_process, "the main process built a Predictor"
        return build(settings)

    monkeypatch.setattr(Settings, "predictor", only_in_a_worker)
    code, out, err = run(photos[:1], random_weights, "--format", "csv", "--workers", "2")
    assert code == 1 and "a_glasses.jpg" in out and "not an image" in out, err


@dataclass(frozen=True)
class CollectingSettings(Settings):
    def predictor(self):
        gc.collect()   # in the worker: whatever it inherited that nothing refers to is freed now, if it can be
        return super().predictor()


def test_a_worker_never_frees_the_sessions_its_parent_left_to_the_collector(random_weights):
    """A forked worker that frees a copy of its parent's onnxruntime session waits forever for the session's
    threads, which the fork did not copy."""
    gc.disable()   # so that the parent's garbage is still there when the worker is forked
    try:
        garbage = [Predictor(str(random_weights), threads=2)]
        garbage.append(garbage)   # a cycle: only the collector frees it
        del garbage
        photo = [str(EXAMPLES / "glasses.jpg")]
        got = finished_within(60, lambda: predict_with(settings_for(random_weights, CollectingSettings), photo, 1))
        assert [p.error for p in got] == [None]
    finally:
        gc.enable()
        gc.collect()


# ---------------------------------------------------------------- photos that take too long

class _Hanging(Predictor):
    """A Predictor caught for ever on an image named *hang*, as a decoder in a loop is."""

    def predict_item(self, item, *args, **kwargs):
        name = item if isinstance(item, str) else item[0] if isinstance(item, tuple) else ""   # a zip's: (name, bytes)
        if "hang" in os.path.basename(name):
            time.sleep(3600)
        return super().predict_item(item, *args, **kwargs)


@dataclass(frozen=True)
class HangingSettings(Settings):
    def predictor(self):
        return _Hanging(self.weights, threads=self.threads)


@pytest.fixture(scope="module")
def with_hang(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hanging")
    for name in ("a.jpg", "b_hang.jpg", "c.jpg", "d.jpg", "e.jpg", "f_hang.jpg", "g.jpg"):
        shutil.copy(EXAMPLES / "glasses.jpg", folder / name)
    return expand_inputs([str(folder)])


def test_a_photo_that_takes_too_long_is_stopped_and_the_batch_goes_on(with_hang, random_weights):
    expected = predict_with(settings_for(random_weights), with_hang)
    started = time.monotonic()
    got = finished_within(60, lambda: predict_with(settings_for(random_weights, HangingSettings), with_hang,
                                                   timeout=1, max_restarts=0))   # a stop is not a death
    assert time.monotonic() - started < 30
    assert [p.name for p in got] == with_hang
    stopped = [p for p in got if p.error is not None]
    assert [p.name for p in stopped] == [with_hang[1], with_hang[5]]
    assert all(p.error.startswith("predicting this image took longer than 1 s (--timeout)") for p in stopped)
    assert [p for p in got if p.error is None] == [p for i, p in enumerate(expected) if i not in (1, 5)]


def test_a_photo_from_a_zip_that_takes_too_long_is_stopped_too(tmp_path, random_weights):
    """A zip's photos travel as bytes: a chunk of them queued behind a busy worker would not fit in the pipe,
    and sending it would hold the main process, which then could not stop the worker stuck on a photo."""
    import io

    from PIL import Image

    data = io.BytesIO()
    Image.open(EXAMPLES / "glasses.jpg").resize((600, 600)).save(data, "PNG")
    assert len(data.getvalue()) > 200_000
    with zipfile.ZipFile(tmp_path / "photos.zip", "w", zipfile.ZIP_STORED) as archive:
        for name in ("a", "b_hang", "c", "d", "e", "f", "g", "h", "i", "j"):
            archive.writestr(f"{name}.png", data.getvalue())
    inputs = expand_inputs([str(tmp_path / "photos.zip")])
    got = finished_within(60, lambda: predict_with(settings_for(random_weights, HangingSettings), inputs,
                                                   timeout=1))
    assert [p.name for p in got] == [entry.name for entry in inputs]
    assert [p.name for p in got if p.error is not None] == [inputs[1].name]
    assert got[1].error.startswith("predicting this image took longer than 1 s")


def test_timeout_with_one_worker_predicts_in_a_worker_process(photos, random_weights):
    assert run(photos, random_weights, "--format", "csv", "--timeout", "60") == \
        run(photos, random_weights, "--format", "csv")


@pytest.mark.parametrize(("flags", "message"), [
    (["--timeout", "0"], "--timeout: must be a positive number of seconds, got 0"),
    (["--timeout", "nan"], "--timeout: must be a positive number of seconds, got nan"),
    (["--timeout", "5", "--engine", "ray"], "--timeout stops this machine's worker processes"),
])
def test_bad_timeouts_are_usage_errors(photos, random_weights, flags, message, capsys):
    with pytest.raises(SystemExit) as caught:
        main(["predict", *photos[:1], "--weights", str(random_weights), *flags])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_spawned_workers_write_what_forked_ones_write(random_weights, monkeypatch):
    """Where there is no fork (macOS, Windows), workers are spawned: fresh interpreters, sent their settings and
    their shared `current` by pickling."""
    import multiprocessing

    import glasses.parallel

    inputs = [str(EXAMPLES / "glasses.jpg"), ImageError("locked", "permission denied"), str(EXAMPLES / "group.jpg")]
    forked = predict_with(settings_for(random_weights), inputs)
    monkeypatch.setattr(glasses.parallel, "context", lambda: multiprocessing.get_context("spawn"))
    spawned = finished_within(120, lambda: predict_with(settings_for(random_weights), inputs))
    assert spawned == forked and [p.error for p in spawned] == [None, "permission denied", None]


@pytest.mark.slow
def test_a_run_stopped_with_ctrl_z_and_resumed_stops_no_photo_for_the_time_it_was_stopped(tmp_path, random_weights):
    """The whole process group stopped (SIGTSTP's effect, here SIGSTOP) for longer than --timeout, then resumed:
    the workers were stopped mid-photo with everything else, so no photo took that long."""
    import subprocess
    import sys

    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(300):
        shutil.copy(EXAMPLES / "glasses.jpg", folder / f"{i:03d}.jpg")
    out = tmp_path / "rows.csv"
    argv = [sys.executable, "-m", "glasses", "predict", str(folder), "--weights", str(random_weights), "--format",
            "csv", "--output", str(out), "--workers", "2", "--timeout", "1", "--quiet"]
    run = subprocess.Popen(argv, cwd=REPO, start_new_session=True, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and run.poll() is None and \
                (not out.exists() or out.read_bytes().count(b"\n") < 20):   # under way: the workers mid-photo
            time.sleep(0.01)
        assert run.poll() is None, f"the run ended before it could be stopped: {run.stderr.read().decode()}"
        os.killpg(run.pid, signal.SIGSTOP)
        time.sleep(2.5)
        os.killpg(run.pid, signal.SIGCONT)
        assert run.wait(timeout=120) == 0, run.stderr.read().decode()
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
    assert b"took longer than" not in out.read_bytes()
    assert out.read_bytes().count(b"\n") == 301
