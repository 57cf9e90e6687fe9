"""`glasses predict --workers N`: N processes on one machine, each with its own Predictor, answering in input
order.

Why processes: one Predictor runs a photo's steps one after another (decode, detection, crops, classifier),
and onnxruntime's threads gain little on a 128-pixel canvas; N processes on one thread each keep N cores busy.

How they start: on Linux by fork, elsewhere by spawn. A forked worker starts with what the main process has
already imported (onnxruntime, numpy, Pillow) and only builds its own sessions: 0.02-0.06 s, where a fresh
interpreter ("spawn", "forkserver") spends 0.2 s of a core importing them again, as long as fifty portraits
take on a 2-core machine. Fork is safe here because a worker uses nothing of its parent's but its imports:
the main process of a --workers run builds no onnxruntime session (it hands photos out and writes rows; the
first worker's "ready" says which labels the model writes), and its one other thread, the progress bar's
monitor, sleeps between updates and takes no lock a worker needs. Where a caller's process does hold sessions
(a test suite, a library's caller), the worker must never free one: its thread pool's threads did not come
with the fork, and freeing it waits for them forever. Nothing in a worker lets go of what it inherited but the
garbage collector, so everything the fork copies is frozen for the collector (gc.freeze) around the fork. And each worker closes the main process's pipe ends that the fork copied into
it (its own pipe's included), or they would stay open there and a worker would never see its pipe close.

How the work moves: the main process hands each worker chunks of CHUNK photos (fewer near the end, so that
every worker gets some of the last ones; with a batch size, chunks of glasses.batched's window, whose crops
are classified together), DEPTH chunks at a time (one carrying a zip's photo bytes only to a worker with
nothing queued: PIPE_SAFE_BYTES), over a pipe of its own (photos on disk by path; a zip's images read here,
so that their limits are checked in one place, and sent as bytes); a worker answers a chunk in one message.
Chunks, because with a message for each photo each worker waited for the main process to wake once a photo:
2,000 portraits on 2 cores took 5.5 s that way and 4.6 s in chunks of 4 (two independent halves: 4.4 s). The
main process writes each answer when every earlier one has come, so the answers are those of one process
(--workers 1) in the same order, whatever order the workers finish in. Memory holds at most CHUNK x DEPTH
photos a worker, and answers at most AHEAD a worker past the oldest unanswered photo (a slow 100-megapixel
photo holds the others back no further). Overlays (--overlay) are drawn and saved by the worker that
predicted the photo, so full-size photos never cross a pipe; an overlay that cannot be written ends the run as
it does in one process.

A worker that dies (a crash in a decoder, the kernel's out-of-memory killer) takes with it only the photo it
was on: that photo gets an error row saying so, the photos queued behind it go to the other workers, and a
new worker takes its place. After `max_restarts` deaths the run ends with WorkerError (the rows written so far
stay written; --resume continues). A worker still on one photo after `timeout` seconds (a decoder caught in a
loop by a hostile file, a read from a share that no longer answers) is killed, and that photo's error row says
it took too long; the main process looks at the photo each worker is reading at least every quarter of the
timeout, so a photo is stopped after between 1 and 1.25 timeouts. Time this process spent away counts for
no photo: after a gap of more than half the timeout between its looks (the whole run stopped with Ctrl-Z and
resumed, a write to a stalled pipe), every photo's time starts again. Such a stop is the photo's, not the
run's: it does not count towards `max_restarts`. A worker that cannot build its Predictor (a bad --weights)
ends the run with StartupError, its message a usage error's.
"""
from __future__ import annotations

import gc
import multiprocessing
import signal
import sys
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from multiprocessing.connection import wait

from glasses.images import ImageError
from glasses.inputs import Input
from glasses.labels import LabelNames
from glasses.zips import ZipEntry

CHUNK = 4   # photos a message: a worker is woken, and wakes the main process, once for each 4 photos
DEPTH = 2   # chunks queued at a worker: one being predicted, the next waiting, so that it never waits
AHEAD = 64  # photos a worker may be handed past the oldest unanswered one
TIMEOUT = 120.0   # seconds a worker may spend on one photo before it is stopped (--timeout)
# A chunk carrying more bytes than this (a zip's photos) goes only to a worker with nothing queued: one waiting
# in a pipe behind a busy worker's chunk would not fit (Linux pipes hold 64-208 KB), so sending it would hold
# this process until that worker reads, unable to take others' answers or to stop a worker stuck on a photo.
PIPE_SAFE_BYTES = 32 * 1024


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

    def predict(self, predictor, items: Iterable, window: int | None = None) -> Iterator:
        """Predictions of `items` (Predictor.predict_many's items), in their order, each item taken from
        `items` when its photo's turn to be read comes; with `batch_size`, the crops of `window` photos at a
        time (default glasses.batched's) classified together."""
        if self.batch_size:
            from glasses.batched import DEFAULT_WINDOW, predict_batched

            return predict_batched(predictor, items, self.batch_size, self.show_side, window=window or DEFAULT_WINDOW)
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


def worker_main(conn, settings: Settings, overlays, current, inherited=()) -> None:
    """A worker: build the Predictor, then answer each chunk of (index, task) pairs with one ("done",
    [(index, Prediction), ...]) message until the pipe closes. `current` (shared memory) is set to each photo's
    index as it is read, so that the main process knows which photo a worker died on without a message for
    each. `inherited`: the main process's pipe ends a fork copied into this process, closed first (see the
    module's docstring). The main process ends a worker by closing its pipe (or, when it is still starting,
    terminating it); a worker ignores Ctrl-C, so that the main process decides."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for end in inherited:
        end.close()
    try:
        _serve(conn, settings, overlays, current)
    except (EOFError, OSError):   # the main process has gone, or closed the pipe: nothing is left to do
        return


def _serve(conn, settings: Settings, overlays, current) -> None:
    try:
        predictor = settings.predictor()
    except Exception as err:  # noqa: BLE001 - any reason the Predictor cannot be built is the run's usage error
        conn.send(("startup_error", str(err)))
        return
    conn.send(("ready", predictor.predict_item(ImageError("", ""))))   # with an error row as this model writes it
    while True:
        chunk = conn.recv()
        answers = []
        for (index, _), prediction in zip(chunk, settings.predict(predictor, _marked(chunk, current), len(chunk))):
            if overlays is not None:
                try:
                    overlays.save_for(prediction)
                except OSError as err:
                    conn.send(("overlay_error", err.errno, err.strerror, err.filename))
                    return
            answers.append((index, replace(prediction, photo=None)))
        conn.send(("done", answers))


def _marked(chunk: list[tuple[int, tuple]], current) -> Iterator:
    """The chunk's items for Settings.predict, `current` set to each one's index as it is taken (when its
    photo is about to be read: predict_many and predict_batched take them one at a time)."""
    for index, task in chunk:
        current.value = index
        yield many_item(task)


class _Worker:
    def __init__(self, context, settings: Settings, overlays, others: Iterable["_Worker"] = ()):
        self.conn, child = context.Pipe()
        forked = context.get_start_method() == "fork"
        inherited = [*(other.conn for other in others if not other.conn.closed), self.conn] if forked else []
        self.current = context.RawValue("q", -1)   # the index of the photo it is reading (worker_main)
        self.process = context.Process(target=worker_main, args=(child, settings, overlays, self.current, inherited),
                                       daemon=True, name="glasses-worker")
        if forked:   # the worker's collector never frees what it inherits (see the module's docstring)
            gc.freeze()
        try:
            self.process.start()
        finally:
            if forked:
                gc.unfreeze()
        child.close()
        self.queued: deque[int] = deque()   # indexes sent and not yet answered, oldest first
        self.chunks = 0                     # chunks sent and not yet answered
        self.ready = False                  # its Predictor is built: it is sent photos from then on
        self.seen, self.since = -1, time.monotonic()   # `current` when last looked at, and since when
        self.stopped = False                # killed for taking too long over one photo

    def overdue(self, timeout: float, now: float, away: bool) -> bool:
        """Whether it has been on the same photo for `timeout` seconds or more (since this process saw it
        start: at most a quarter of the timeout late, WorkerPool waking that often). `away`: this process has
        not looked for longer than it means to (the whole run was stopped with Ctrl-Z, a write to a stalled
        pipe held it), so how long the photo has taken is not known, and its time starts again."""
        reading = self.current.value
        if not self.queued or reading != self.seen or away:
            self.seen, self.since = reading, now
            return False
        return now - self.since >= timeout

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
    """fork on Linux, spawn elsewhere (see the module's docstring): macOS's system libraries do not survive a
    fork, and Windows has none."""
    return multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")


class WorkerPool:
    """`workers` worker processes, started at once; `labels` waits for the first to be ready, `predict` runs
    inputs through them, `close` ends them. See the module's docstring."""

    def __init__(self, settings: Settings, workers: int, overlays=None, chunk: int = CHUNK,
                 max_restarts: int | None = None, timeout: float | None = TIMEOUT):
        self.settings, self.overlays, self.timeout = settings, overlays, timeout
        if settings.batch_size:   # batched: a chunk is a window of photos, their crops classified together
            from glasses.batched import DEFAULT_WINDOW

            chunk = DEFAULT_WINDOW
        self.chunk = chunk
        self.max_restarts = 3 * workers if max_restarts is None else max_restarts
        self._context = context()
        if self._context.get_start_method() == "fork":
            import onnxruntime  # noqa: F401 - imported here once, for every forked worker to start with
        self.deaths = 0
        self._looked = time.monotonic()   # when _collect last looked at the workers' photos
        self.template = None       # the first ready worker's error row: this model's labels and row as it writes it
        self.workers: list[_Worker] = []
        try:
            for _ in range(workers):
                self.workers.append(self._start())
        except BaseException:
            self.close()
            raise

    def _start(self) -> _Worker:
        try:
            return _Worker(self._context, self.settings, self.overlays, self.workers)
        except OSError as err:   # fork or spawn failed: out of memory, of processes
            raise WorkerError(f"cannot start a worker process ({err.strerror or err})") from None

    def close(self) -> None:
        for worker in self.workers:
            worker.stop()

    def __enter__(self) -> "WorkerPool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def labels(self) -> LabelNames:
        """The model's labels, as the first worker to be ready reports them (StartupError if none can start)."""
        while self.template is None:
            self._collect({}, {}, deque(), None)
        return self.template.labels

    def predict(self, inputs: Iterable[Input], total: int) -> Iterator:
        """One Prediction per input, in input order (`total`: how many inputs there are).

        Raises StartupError or WorkerError as the module's docstring says, and OSError (naming the file) for
        an overlay that cannot be written."""
        pool = self.workers
        tasks = iter(enumerate(inputs))
        retry: deque[int] = deque()
        sent: dict[int, tuple] = {}        # index -> task, until it is answered
        done: dict[int, object] = {}       # answers waiting for an earlier one
        written = taken = 0

        def next_task() -> int | None:
            nonlocal taken
            if retry:
                return retry.popleft()
            if sent and min(sent) + AHEAD * len(pool) <= max(sent):   # answers would pile up behind a slow one
                return None
            following = next(tasks, None)
            if following is None:
                return None
            index, item = following
            sent[index] = task_of(item)
            taken += 1
            return index

        def next_chunk() -> list[int]:
            """Up to `chunk` photos; fewer near the end, so that every worker has some of the last ones."""
            size = max(1, min(self.chunk, -(-(total - taken + len(retry)) // (DEPTH * len(pool)))))
            indexes = []
            while len(indexes) < size and (index := next_task()) is not None:
                indexes.append(index)
            return indexes

        while written < total:
            for worker in list(pool):  # keep every ready worker's queue full, re-sent photos first
                while worker.ready and worker.chunks < DEPTH:
                    indexes = next_chunk()
                    if not indexes:
                        break
                    chunk = [(index, sent[index]) for index in indexes]
                    if worker.chunks and _bytes_in(chunk) > PIPE_SAFE_BYTES:   # for an idle worker (see above)
                        retry.extendleft(reversed(indexes))
                        break
                    try:
                        worker.conn.send(chunk)
                    except OSError:    # it died; its sentinel says so below
                        retry.extendleft(reversed(indexes))
                        break
                    worker.queued.extend(indexes)
                    worker.chunks += 1
            self._collect(done, sent, retry, total - written)
            while written in done:
                yield done.pop(written)
                written += 1

    def _collect(self, done: dict, sent: dict, retry: deque, left: int | None) -> None:
        """Wait for any worker to answer or die; take in what each sent, and replace each that died (its photo
        answered with an error row, the rest of its queue put in `retry`). `left`: photos not yet written, for
        WorkerError's message (None: before any photo was handed out)."""
        pool = self.workers
        busy = self.timeout is not None and any(worker.queued for worker in pool)
        ready = wait([w.conn for w in pool] + [w.process.sentinel for w in pool], self.timeout / 4 if busy else None)
        now = time.monotonic()
        away = self.timeout is not None and now - self._looked > self.timeout / 2
        self._looked = now
        for worker in list(pool):
            dead = worker.process.sentinel in ready
            if worker.conn in ready or dead:
                self.template = _receive(worker, done, sent, self.template)
            if not dead and self.timeout is not None and worker.overdue(self.timeout, now, away):
                worker.stopped = True
                worker.process.kill()
                dead = True
            if dead or worker.conn.closed:
                worker.process.join(timeout=5)
                if worker.stopped:
                    row = (f"predicting this image took longer than {self.timeout:g} s (--timeout), so its worker "
                           f"process was stopped; the other images were still predicted")
                else:
                    self.deaths += 1
                    row = (f"the worker process predicting this image died ({exit_reason(worker.process.exitcode)}"
                           f"); the other images were still predicted")
                _bury(worker, done, retry, sent, self.template, row)
                worker.conn.close()
                pool.remove(worker)
                if self.deaths > self.max_restarts:
                    raise WorkerError(f"worker processes died {self.deaths} times (the last: "
                                      f"{exit_reason(worker.process.exitcode)}); "
                                      + ("none started" if left is None else f"{left} images were not predicted"))
                pool.append(self._start())


def _bytes_in(chunk: list[tuple[int, tuple]]) -> int:
    """The photo bytes a chunk carries (a zip's images; a path carries none worth counting)."""
    return sum(len(task[2]) for _, task in chunk if task[0] == "bytes")


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
        template = _take(worker, message, done, sent, template)
    return template


def _take(worker: _Worker, message: tuple, done: dict, sent: dict, template):
    """One message from `worker` taken in; returns the error-row template once it has one."""
    kind = message[0]
    if kind == "ready":
        template, worker.ready = message[1], True
    elif kind == "done":
        for index, prediction in message[1]:
            done[index] = prediction
            sent.pop(index, None)
            worker.queued.remove(index)
        worker.chunks -= 1
    elif kind == "startup_error":
        raise StartupError(message[1])
    elif kind == "overlay_error":
        _, errno, strerror, filename = message
        raise OSError(errno, strerror, filename)
    return template


def _bury(worker: _Worker, done: dict, retry: deque, sent: dict, template, row: str) -> None:
    """A dead worker: the photo it was on (the one it said it was reading, else the oldest sent) gets the error
    `row`, the others queued at it go back to be re-sent."""
    if worker.queued:
        index = worker.current.value if worker.current.value in worker.queued else worker.queued[0]
        worker.queued.remove(index)
        task = sent.pop(index)
        done[index] = _failed(template, task[1], row)
    retry.extendleft(reversed(worker.queued))
    worker.queued.clear()


def _failed(template, name: str, reason: str):
    if template is None:   # no worker ever started: rows as the default model writes them
        from glasses.prediction import Prediction

        return Prediction.failed(name, reason)
    return replace(template, name=name, error=reason)
