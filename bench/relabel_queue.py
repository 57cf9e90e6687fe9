"""How quickly the review queue answers at CelebA's scale: is the next image ready at once?

    nice -n 19 python bench/relabel_queue.py [--rows 15000] [--decided 5000] [--steps 200]
                                             [--json bench/results/relabel_queue.json]

A synthetic manifest of `--rows` rows (empty files in a temporary data folder; no photo is read) ranked from a
random pred_prob, a review database already holding `--decided` decisions by another reviewer (one import),
then one reviewer's session: milliseconds per decide (stored, committed and the next item found), per undo
and per progress count. The face box is not part of it (FaceBoxes finds it ahead, in a background thread).
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import results  # noqa: E402
from glasses.manifest import load_manifest, write_manifest  # noqa: E402
from relabel.session import ReviewSession  # noqa: E402
from relabel.store import FLIP, KEEP, NewDecision, ReviewStore  # noqa: E402
from relabel.suspects import rank_manifest  # noqa: E402


def timed_ms(fn) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=15000)
    parser.add_argument("--decided", type=int, default=5000)
    parser.add_argument("--steps", type=int, default=200)
    results.add_json_flag(parser, "relabel_queue")
    args = parser.parse_args()
    draw = random.Random(0)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        (data / "imgs").mkdir(parents=True)
        rows = []
        for i in range(args.rows):
            (data / "imgs" / f"{i}.jpg").touch()
            rows.append({"path": f"imgs/{i}.jpg", "label": int(draw.random() < 0.08), "source": "celeba_hq",
                         "group": str(i), "split": "train", "pred_prob": round(draw.random(), 4)})
        write_manifest(rows, Path(tmp) / "manifest.csv")
        load_ms = timed_ms(lambda: load_manifest(Path(tmp) / "manifest.csv", data))
        manifest = load_manifest(Path(tmp) / "manifest.csv", data)
        rank_ms = timed_ms(lambda: rank_manifest(manifest))
        store = ReviewStore(Path(tmp) / "reviews.sqlite")
        step = max(1, args.rows // max(args.decided, 1))
        store.record_many([NewDecision(row["path"], "earlier", KEEP, row["label"]) for row in rows[::step]
                           ][:args.decided], origin="import bench")
        session = ReviewSession(manifest, rank_manifest(manifest), store, "ana")
        decide = [timed_ms(lambda: session.decide(FLIP)) for _ in range(args.steps)]
        undo = [timed_ms(session.undo) for _ in range(20)]
        progress = [timed_ms(session.progress) for _ in range(5)]
    print(f"{args.rows} rows, {args.decided} decisions already stored; ms (median / max):")
    print(f"  load + validate manifest {load_ms:8.1f}")
    print(f"  rank                     {rank_ms:8.1f}")
    for name, times in (("decide", decide), ("undo", undo), ("progress", progress)):
        print(f"  {name:<24} {statistics.median(times):8.1f} / {max(times):.1f}")
    results.write(args.json, results.record("relabel_queue", {
        "rows": args.rows, "decided": args.decided, "steps": args.steps,
        "load_ms": results.number(load_ms, 1), "rank_ms": results.number(rank_ms, 1),
        **{f"{name}_ms": {"median": results.number(statistics.median(times), 1), "max": results.number(max(times), 1),
                          "runs": len(times)}
           for name, times in (("decide", decide), ("undo", undo), ("progress", progress))}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
