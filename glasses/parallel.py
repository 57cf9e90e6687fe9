"""`glasses predict --workers N`: N processes on one machine, each with its own Predictor, answering in input
order.

Why processes: one Predictor runs a photo's steps one after another (decode, detection, crops, classifier),
and onnxruntime's threads gain little on a 128-pixel canvas; N processes on one thread each keep N cores busy.
They are started with "forkserver" (where the platform has it, else "spawn"), never "fork": onnxruntime's
thread pools do not survive a fork, and a forked copy of a process with sessions can hang.

How the work moves: the main process hands each worker at most `depth` photos at a time over a pipe of its
own (photos on disk by path; a zip's images read here, so that their limits are checked in one place, and
sent as bytes), and writes each answer when every earlier one has come. So the answers are those of one
process (--workers 1) in the same order, whatever order the workers finish in. Memory holds at most `depth`
photos a worker, and answers at most AHEAD a worker past the oldest unanswered photo (a slow 100-megapixel
photo holds the others back no further). While no worker is ready yet, the main process predicts photos
itself (WorkerPool.predict's `local`). Overlays (--overlay) are drawn and saved by the worker that predicted
the photo, so full-size photos never cross a pipe; an overlay that cannot be written ends the run as it does
in one process.

A worker that dies (a crash in a decoder, the kernel's out-of-memory killer) takes with it only the photo it
was on: that photo gets an error row saying so, the photos queued behind it go to the other workers, and a
new worker takes its place. After `max_restarts` deaths the run ends with WorkerError (the rows written so far
stay written; --resume continues). A worker that cannot build its Predictor (a bad --weights) ends the run with
StartupError, its message a usage error's.
"""
from __future__ import annotations

import multiprocessing
import signal
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from multiprocessing.connection import wait

from glasses.images import ImageError
from glasses.inputs import Input
from glasses.zips import ZipEntry

DEPTH = 2   # photos queued at a worker: one being predicted, one read ahead
AHEAD = 64  # photos a worker may be handed past the oldest unanswered one


class StartupError(RuntimeError):
    """A worker could not build its Predictor; the message says why (the Predictor's own error)."""


class WorkerError(RuntimeError):
    """Worker processes kept dying; the run cannot go on."""


@dataclass(frozen=True)
class Settings:
    """What each worker builds its Predictor from (Predictor's arguments), and how it predicts."""

    weights: str
    threshold: float | None
    min_face_size: int
    max_side: int
    max_pixels: int
    threads: int
    device: str = "cpu"
    batch_size: int | None = None    # crops batched across photos (glasses/batched.py); None: photo by photo
    show_side: int | None = None     # kept photo size, for overlays

    def predictor(self):
        from glasses.predictor import Predictor

        return Predictor(self.weights, device=self.device, threshold=self.threshold,
                         min_face_size=self.min_face_size, max_side=self.max_side, max_pixels=self.max_pixels,
                         threads=self.threads)

    def predict(self, predictor, items: Iterable, window: int | None = None, reading=None) -> Iterator:
        """Predictions of `items` (Predictor.predict_many's items), in their order; with `batch_size`, the
        crops of `window` photos at a time (default glasses.batched's) classified together, `reading(i)` told
        before item i is read."""
        if self.batch_size:
            from glasses.batched import DEFAULT_WINDOW, predict_batched

            return predict_batched(predictor, items, self.batch_size, self.show_side, window=window or DEFAULT_WINDOW,
                                   reading=reading)
        return predictor.predict_many(items, self.show_side)


def task_of(item: Input) -> tuple:
    """What a worker is sent for one input: ("path", name) for a file, ("bytes", name, data) for an image in a
    zip, ("error", name, reason) for an input known to be unusable (a folder that could not be listed, a zip
    member that cannot be read)."""
    if isinstance(item, ImageError):
        return ("error", item.source, item.reason)
    if isinstance(item, ZipEntry):
        try:
            return ("bytes", item.name, item.read())
        except ImageError as err:
            return ("error", item.name, err.reason)
        except Exception as err:  # noqa: BLE001 - one bad file never stops the batch
            return ("error", item.name, f"unexpected error: {type(err).__name__}: {err}")
    return ("path", item)


def many_item(task: tuple):
    """The task as Predictor.predict_many takes it."""
    kind = task[0]
    if kind == "path":
        return task[1]
    if kind == "bytes":
        return (task[1], task[2])
    return ImageError(task[1], task[2])


def worker_main(conn, settings: Settings, overlays) -> None:
    """A worker: build the Predictor, then answer (index, task) messages with (index, Prediction) until the
    pipe closes. The main process ends it by closing its pipe (or, when it is still starting, terminating
    it); a worker ignores Ctrl-C, so that the main process decides."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        _serve(conn, settings, overlays)
    except (EOFError, OSError):   # the main process has gone, or closed the pipe: nothing is left to do
        return


def _serve(conn, settings: Settings, overlays) -> None:
    try:
        predictor = settings.predictor()
    except Exception as err:  # noqa: BLE001 - any reason the Predictor cannot be built is the run's usage error
        conn.send(("startup_error", str(err)))
        return
    conn.send(("ready", predictor.predict_item(ImageError("", ""))))   # with an error row as this model writes it
    while True:
        batch = [conn.recv()]
        while conn.poll() and (not settings.batch_size or len(batch) < settings.batch_size):
            batch.append(conn.recv())
        # Batched, a window's photos are all read before any is answered: say which one is being read, so
        # that a crash there is blamed on it (_bury).
        reading = (lambda i, batch=batch: conn.send(("on", batch[i][0]))) if settings.batch_size else None
        for (index, _), prediction in zip(batch, settings.predict(predictor, [many_item(t) for _, t in batch],
                                                                  len(batch), reading)):
            if overlays is not None and prediction.error is None and prediction.name in overlays.targets:
                try:
                    overlays.save(prediction.name, prediction.photo.image, list(prediction.faces))
                except OSError as err:
                    conn.send(("overlay_error", err.errno, err.strerror, err.filename))
                    return
            conn.send(("done", index, replace(prediction, photo=None)))


class _Worker:
    def __init__(self, context, settings: Settings, overlays):
        self.conn, child = context.Pipe()
        self.process = context.Process(target=worker_main, args=(child, settings, overlays), daemon=True,
                                       name="glasses-worker")
        self.process.start()
        child.close()
        self.queued: deque[int] = deque()   # indexes sent and not yet answered, oldest first
        self.reading: int | None = None     # batched: the index it said it is reading
        self.ready = False                  # its Predictor is built: it is sent photos from then on

    def stop(self) -> None:
        """Close its pipe, which ends a ready worker's loop; one still starting is not waited for."""
        self.conn.close()
        if self.ready:
            self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(timeout=5)


def exit_reason(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exit status {exitcode}"


def context():
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    ctx = multiprocessing.get_context(method)
    if method == "forkserver":   # the server imports onnxruntime and the rest once; each worker forks from it
        ctx.set_forkserver_preload(["glasses.predictor", "glasses.parallel"])
    return ctx


class WorkerPool:
    """`workers` worker processes, started at once from a thread of their own, so that the caller goes on
    meanwhile (the first start waits for the forkserver to import onnxruntime and the rest: 0.15-0.3 s, as long
    as fifty portraits take); `predict` runs inputs through them, `close` ends them. See the module's
    docstring."""

    def __init__(self, settings: Settings, workers: int, overlays=None, depth: int = DEPTH,
                 max_restarts: int | None = None):
        self.settings, self.overlays = settings, overlays
        self.depth = max(depth, settings.batch_size or 0)
        self.max_restarts = 3 * workers if max_restarts is None else max_restarts
        self._context = context()
        self.workers: list[_Worker] = []       # appended to by the starting thread as each one starts
        self._start_error: BaseException | None = None
        self._starting = threading.Thread(target=self._start_all, args=(workers,), name="glasses-pool-start",
                                          daemon=True)
        self._starting.start()

    def _start_all(self, workers: int) -> None:
        try:
            for _ in range(workers):
                self.workers.append(self._start())
        except BaseException as err:  # noqa: BLE001 - handed to the caller's thread, which raises it
            self._start_error = err

    def _started(self) -> None:
        """Wait until every first worker has started; raise what stopped their start, if anything did."""
        self._starting.join()
        if self._start_error is not None:
            raise self._start_error

    def _start(self) -> _Worker:
        return _Worker(self._context, self.settings, self.overlays)

    def close(self) -> None:
        self._starting.join()
        for worker in self.workers:
            worker.stop()

    def __enter__(self) -> "WorkerPool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def predict(self, inputs: Iterable[Input], total: int, local=None) -> Iterator:
        """One Prediction per input, in input order (`total`: how many inputs there are). `local`: a Predictor
        in this process, which predicts photos itself until the first worker is ready: a worker's start (a
        fresh interpreter importing onnxruntime, then its sessions) takes as long as a hundred portraits, which
        a short run would otherwise wait for.

        Raises StartupError or WorkerError as the module's docstring says, and OSError (naming the file) for
        an overlay that cannot be written."""
        pool, settings, overlays = self.workers, self.settings, self.overlays
        tasks = iter(enumerate(inputs))
        retry: deque[int] = deque()
        sent: dict[int, tuple] = {}        # index -> task, until it is answered
        done: dict[int, object] = {}       # answers waiting for an earlier one
        template = None
        deaths, written = 0, 0

        def next_task() -> int | None:
            if retry:
                return retry.popleft()
            if sent and min(sent) + AHEAD * len(pool) <= max(sent):   # answers would pile up behind a slow one
                return None
            following = next(tasks, None)
            if following is None:
                return None
            index, item = following
            sent[index] = task_of(item)
            return index

        while written < total:
            if not self._starting.is_alive() or local is None:
                self._started()        # every worker started (or why not), before this loop counts on them
            for worker in list(pool):  # keep every ready worker's queue full, re-sent photos first
                while worker.ready and len(worker.queued) < self.depth:
                    index = next_task()
                    if index is None:
                        break
                    try:
                        worker.conn.send((index, sent[index]))
                    except OSError:    # it died; its sentinel says so below
                        retry.appendleft(index)
                        break
                    worker.queued.append(index)
            timeout = None
            if local is not None and not any(worker.ready for worker in pool):
                index = next_task()
                if index is not None:
                    done[index] = _predict_here(local, settings, sent.pop(index), overlays)
                    timeout = 0
            ready = wait([w.conn for w in pool] + [w.process.sentinel for w in pool], timeout)
            for worker in list(pool):
                dead = worker.process.sentinel in ready
                if worker.conn in ready or dead:
                    template = _receive(worker, done, sent, template)
                if dead or worker.conn.closed:
                    deaths += 1
                    _bury(worker, done, retry, sent, template)
                    pool.remove(worker)
                    if deaths > self.max_restarts:
                        raise WorkerError(f"worker processes died {deaths} times (the last: "
                                          f"{exit_reason(worker.process.exitcode)}); {total - written} images "
                                          f"were not predicted")
                    pool.append(self._start())
            while written in done:
                yield done.pop(written)
                written += 1


def predict_parallel(inputs: Iterable[Input], total: int, settings: Settings, workers: int, overlays=None,
                     local=None, **pool_options) -> Iterator:
    """WorkerPool(settings, workers, overlays).predict(inputs, total, local), the pool closed after."""
    with WorkerPool(settings, workers, overlays, **pool_options) as pool:
        yield from pool.predict(inputs, total, local)


def _predict_here(predictor, settings: Settings, task: tuple, overlays):
    """One task predicted in this process, its overlay saved, its photo let go."""
    prediction = next(iter(settings.predict(predictor, [many_item(task)], 1)))
    if overlays is not None and prediction.error is None and prediction.name in overlays.targets:
        overlays.save(prediction.name, prediction.photo.image, list(prediction.faces))
    return replace(prediction, photo=None)


def _receive(worker: _Worker, done: dict, sent: dict, template):
    """Everything `worker` has sent so far; returns the error-row template once it has one. A worker whose
    pipe has closed has its pipe closed here too, for _bury."""
    messages = []
    try:
        while worker.conn.poll():
            messages.append(worker.conn.recv())
    except (EOFError, OSError):
        worker.conn.close()
    for message in messages:
        kind = message[0]
        if kind == "on":
            worker.reading = message[1]
        elif kind == "ready":
            template, worker.ready = message[1], True
        elif kind == "done":
            _, index, prediction = message
            done[index] = prediction
            sent.pop(index, None)
            worker.queued.remove(index)
        elif kind == "startup_error":
            raise StartupError(message[1])
        elif kind == "overlay_error":
            _, errno, strerror, filename = message
            raise OSError(errno, strerror, filename)
    return template


def _bury(worker: _Worker, done: dict, retry: deque, sent: dict, template) -> None:
    """A dead worker: the photo it was on (batched: the one it said it was reading; else the oldest sent) gets
    an error row, the others queued at it go back to be re-sent."""
    worker.process.join(timeout=5)
    reason = exit_reason(worker.process.exitcode)
    if worker.queued:
        index = worker.reading if worker.reading in worker.queued else worker.queued[0]
        worker.queued.remove(index)
        task = sent.pop(index)
        row = f"the worker process predicting this image died ({reason}); the other images were still predicted"
        done[index] = _failed(template, task[1], row)
    retry.extendleft(reversed(worker.queued))
    worker.queued.clear()


def _failed(template, name: str, reason: str):
    if template is None:   # no worker ever started: rows as the default model writes them
        from glasses.prediction import Prediction

        return Prediction.failed(name, reason)
    return replace(template, name=name, error=reason)
