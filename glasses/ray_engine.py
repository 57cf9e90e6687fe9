"""`glasses predict --engine ray`: the same rows as the local engine, from Predictors in Ray actors, on a local
Ray instance (all this machine's cores) or the cluster `--address` names. Ray is optional (`pip install
"glasses[ray]"`) and imported only here, only when this engine runs.

The pipeline is Ray Data's: the inputs become a dataset of tasks (ray.data.from_items: a path, an image of a
zip as bytes read on this machine, or an error known already), `map_batches` runs them through
PredictorActor (an actor pool of `workers` actors, each with its own Predictor on `threads` cores, or a GPU
with --device cuda), and the answers come back to this process, which puts them in input order and hands them
to the same PredictionWriter the local engine uses: the rows are the local engine's, byte for byte.

Paths are read by the actors, so on a cluster the photos must lie on a filesystem every node sees at the same
path (NFS, a mounted bucket); docs/scale.md shows how. Overlays are saved by the actors, to such a folder too.
"""
from __future__ import annotations

import json
import logging
import os
import pickle
from collections.abc import Iterator
from dataclasses import replace

from glasses.detect import default_threads
from glasses.parallel import Settings, many_item, task_of

INSTALL_HINT = 'the Ray engine needs Ray: pip install "glasses[ray]" (or pip install "ray[data]==2.60.0")'
PHOTOS_PER_CALL = 16   # photos one actor call predicts: large enough to amortise a call, small to spread them


class RayMissing(ImportError):
    """Ray is not installed; the message says how to install it."""


class RayEngineError(RuntimeError):
    """Ray could not run the pipeline (no cluster at --address, an actor that failed); the message says why."""


def import_ray():
    """The `ray` module with Ray Data, or RayMissing saying how to install it."""
    try:
        import ray
        import ray.data  # noqa: F401 - Ray without its [data] extra lacks pyarrow and pandas
    except ImportError as err:
        raise RayMissing(f"{INSTALL_HINT} ({err})") from None
    return ray


class PredictorActor:
    """One Predictor in one Ray actor; called with a batch of tasks, answers each with its pickled Prediction
    (the local engine's own object, so that the driver writes exactly what a local run writes)."""

    def __init__(self, settings: Settings, overlays=None):
        self.settings, self.overlays = settings, overlays
        self.predictor = settings.predictor()

    def __call__(self, batch: dict) -> dict:
        import numpy as np

        tasks = [_task(kind, name, data, reason)
                 for kind, name, data, reason in zip(batch["kind"], batch["name"], batch["data"], batch["reason"])]
        answers, failures = [], []
        for prediction in self.settings.predict(self.predictor, [many_item(task) for task in tasks], len(tasks)):
            failures.append(self._overlay(prediction))
            answers.append(pickle.dumps(replace(prediction, photo=None)))
        return {"index": np.asarray(batch["index"]), "prediction": np.array(answers, dtype=object),
                "overlay_error": np.array(failures, dtype=object)}

    def _overlay(self, prediction) -> str:
        """Save the overlay where one is asked for; "" or, where it cannot be written, the OSError as JSON."""
        if self.overlays is None:
            return ""
        try:
            self.overlays.save_for(prediction)
        except OSError as err:
            return json.dumps([err.errno, err.strerror, err.filename])
        return ""


def _task(kind, name, data, reason) -> tuple:
    if kind == "path":
        return ("path", name)
    if kind == "bytes":
        return ("bytes", name, bytes(data))
    return ("error", name, reason)


def _record(index: int, task: tuple) -> dict:
    """A task as a dataset row: every row has every column, so that Arrow gives each one type."""
    kind, name = task[0], task[1]
    return {"index": index, "kind": kind, "name": name, "data": task[2] if kind == "bytes" else b"",
            "reason": task[2] if kind == "error" else ""}


def predict_ray(inputs: list, settings: Settings, workers: int | None = None, address: str | None = None,
                overlays=None) -> Iterator:
    """One Prediction per input, in input order, from a pool of PredictorActors. `workers`: actors (default:
    the cluster's CPUs over `settings.threads`, or its GPUs with cuda). `address`: a running cluster's (as
    `ray start` prints it, or "auto"; default RAY_ADDRESS, which `ray job submit` sets); None starts a local
    instance on this machine's cores, shut down after.

    Raises RayMissing without Ray, RayEngineError when Ray fails, OSError for an overlay that cannot be written."""
    ray = import_ray()
    address = address or os.environ.get("RAY_ADDRESS")   # set by `ray job submit` for the job it runs
    started = not ray.is_initialized()
    logging.getLogger("ray.data").setLevel(logging.ERROR)   # its plan and timings are not the run's output
    if started:
        if address:
            _check_reachable(address)
        try:
            ray.init(address=address, num_cpus=None if address else default_threads(), include_dashboard=False,
                     logging_level=logging.ERROR, log_to_driver=False)
        except Exception as err:  # noqa: BLE001 - ConnectionError, RuntimeError...: all say Ray could not start
            raise RayEngineError(f"cannot start Ray{f' at {address}' if address else ''}: {err}") from None
    try:
        yield from _run(ray, inputs, settings, workers, overlays)
    finally:
        if started:
            ray.shutdown()


def _check_reachable(address: str) -> None:
    """RayEngineError, at once, where nothing listens at a `host:port` address: ray.init would keep trying to
    reach it for minutes. Other addresses (auto, ray://...) are Ray's to resolve."""
    import socket

    host, sep, port = address.rpartition(":")
    if not sep or "/" in address or not port.isdigit():
        return
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except OSError as err:
        raise RayEngineError(f"cannot start Ray at {address}: nothing answers there "
                             f"({err.strerror or err}); is the cluster up (ray status)?") from None


def _run(ray, inputs: list, settings: Settings, workers: int | None, overlays) -> Iterator:
    from ray.data import ActorPoolStrategy, DataContext

    if not inputs:
        return
    gpus = 1 if settings.device == "cuda" else None
    if workers is None:
        resources = ray.cluster_resources()
        workers = int(resources.get("GPU", 0)) if gpus else int(resources.get("CPU", 1)) // settings.threads
        workers = max(1, workers)
    context = DataContext.get_current()
    context.enable_progress_bars = False          # glasses shows its own
    context.execution_options.preserve_order = True
    records = [_record(index, task_of(item)) for index, item in enumerate(inputs)]
    dataset = ray.data.from_items(records, override_num_blocks=max(1, min(len(records), 4 * workers)))
    answered = dataset.map_batches(
        PredictorActor, fn_constructor_kwargs={"settings": settings, "overlays": overlays},
        batch_size=PHOTOS_PER_CALL, compute=ActorPoolStrategy(size=workers), num_cpus=settings.threads,
        num_gpus=gpus, batch_format="numpy")
    waiting, written = {}, 0
    try:
        for row in answered.iter_rows():
            if row["overlay_error"]:
                raise OSError(*json.loads(row["overlay_error"]))
            waiting[int(row["index"])] = pickle.loads(row["prediction"])
            while written in waiting:
                yield waiting.pop(written)
                written += 1
    except OSError:
        raise
    except Exception as err:  # noqa: BLE001 - Ray's errors (an actor that could not start, a lost node)
        raise RayEngineError(f"the Ray pipeline failed: {_last_line(err)}") from None
    if written != len(records):
        raise RayEngineError(f"the Ray pipeline answered {written} of {len(records)} images")


def _last_line(err: Exception) -> str:
    """The last non-blank line of `err`'s message (Ray puts the cause there, under its own traceback), at most
    500 characters; the exception's type where the message is blank."""
    text = str(err).strip()
    lines = [line for line in text.splitlines() if line.strip()]
    return (lines[-1] if lines else type(err).__name__)[:500]
