"""Render docs/benchmarks.md's tables from the benches' JSON figures (bench/results/*.json, bench/results.py).

    python bench/tables.py            # rewrite the tables in docs/benchmarks.md from bench/results/
    python bench/tables.py --check    # exit status 1 when docs/benchmarks.md differs from what the JSON gives

The page marks the place of each table, naming the JSON file (and, for bench/speed.py, the section):

    <!-- bench-table speed.json#e2e -->
    ...replaced by the table, and the command and date it came from...
    <!-- /bench-table -->

Where that file (or section) does not exist yet, what stands between the marks is kept as it is: figures
written by hand, under a note saying which bench regenerates them.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
DOC = REPO / "docs" / "benchmarks.md"

BLOCK = re.compile(r"(<!-- bench-table (?P<source>\S+) -->\n)(?P<body>.*?)(<!-- /bench-table -->)", re.DOTALL)


class TableError(ValueError):
    """A mark or a JSON file that cannot be rendered; the message names it."""


# ------------------------------------------------------------------------------------------------- formatting

def cell(value) -> str:
    """A table cell: integers with thousands separators, None as a dash, text with its pipes escaped."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value).replace("|", "\\|")


def table(headers: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def fixed(value, digits: int) -> str | None:
    return None if value is None else f"{value:.{digits}f}"


def percent(value) -> str | None:
    return None if value is None else f"{value:.1%}"


def of(found, total) -> str | None:
    return None if found is None else f"{found:,}/{total:,}"


def count(n: int, word: str) -> str:
    """`3 runs`, `1 run`."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def origin(record: dict) -> str:
    """Where figures came from: `python bench/speed.py --full`, 2026-12-01, 2 CPUs."""
    cpus = record.get("cpus")
    return f"From `{record['command']}`, {record['date']}" + (f", {cpus} CPUs." if cpus else ".")


# -------------------------------------------------------------------------------------------------- renderers

def speed_e2e(r: dict) -> str:
    stages = r["stage_ms"]
    return "\n\n".join([
        table(["photos", "ours ms", "dlib + ours ms", "ours / dlib", "target"],
              [[f"256 px CelebA-HQ ({r['photos']:,})", fixed(r["ours_ms"], 2), fixed(r["baseline_ms"], 2),
                fixed(r["ratio"], 3), f"at most {r['target']}"]]),
        f"Median ms a photo, end to end, {r['threads']} threads. Where ours spends it: reading the file and "
        f"cutting the crops {fixed(stages['decode'], 2)}, detection {fixed(stages['detect'], 2)}, classification "
        f"{fixed(stages['classify'], 2)}. A face found in {of(r['ours_with_face'], r['photos'])} photos by ours, "
        f"{of(r['baseline_with_face'], r['photos'])} by dlib."])


def speed_large(r: dict) -> str:
    rows = [[f"{c['megapixels']} MP group photo, JPEG ({c['photos']})", of(c["ours_found"], c["faces"]),
             of(c["baseline_found"], c["faces"]), fixed(c["ours_ms"], 1), fixed(c["ours_detect_ms"], 1),
             fixed(c["baseline_ms"], 1), fixed(c["ratio"], 2), f"at most {r['target']}"]
            for c in r["canvases"]]
    return "\n\n".join([
        table(["photos", "faces found: ours", "dlib", "ours ms", "ours detection ms", "dlib + ours ms",
               "ours / dlib", "target"], rows),
        f"Median ms a photo, end to end, {r['threads']} threads; faces {r['face_px'][0]}-{r['face_px'][1]} px."])


def speed_found(r: dict) -> str:
    rows = []
    for s in r["sources"]:
        target = s.get("target")
        goal = f"{target[0]:,}/{target[1]:,}" if target and s["whole"] else None
        rows.append([s["source"], of(s["ours"], s["photos"]), of(s["mtcnn"], s["photos"]), goal])
    sample = "every photo" if r["per_source"] <= 0 else f"at most {r['per_source']:,} photos a source"
    return "\n\n".join([table(["source", "ours", "MTCNN", "target"], rows),
                        f"Photos in which a face is found, {sample}; `-`: not run."])


def speed_groups(r: dict) -> str:
    rows = [[w["face_px"], w["faces"], percent(w["ours_recall"]), percent(w["mtcnn_recall"])] for w in r["by_width"]]
    canvases = ", ".join(f"{c['megapixels']} MP {fixed(c['ours_ms'], 0)}" for c in r["by_canvas"])
    theirs = ", ".join(f"{c['megapixels']} MP {fixed(c['mtcnn_ms'], 0)}" for c in r["by_canvas"])
    false = r["false_detections"]
    return "\n\n".join([
        table(["face px", "faces", "ours", "MTCNN"], rows),
        f"{r['photos']:,} photos ({r['per_width_and_canvas']} a face width and canvas, seed {r['seed']}, from "
        f"{r['portraits']:,} portraits). Detection ms a photo: ours {fixed(r['ours_ms'], 0)} ({canvases}), MTCNN "
        f"{fixed(r['mtcnn_ms'], 0)} ({theirs}). False detections: ours {false['ours']}, MTCNN {false['mtcnn']}."])


def speed_empty(r: dict) -> str:
    rows = [["scikit-image samples", r["skimage"]], ["synthetic", r["synthetic"]], ["faces found", r["faces"]]]
    notes = []
    if r.get("with_faces"):
        notes.append("With a face: " + ", ".join(f"{name} ({count})" for name, count in r["with_faces"].items()) + ".")
    if r.get("skipped"):
        notes.append("Skipped: " + ", ".join(f"{name} ({why})" for name, why in r["skipped"].items()) + ".")
    return "\n\n".join([table(["photos without people", "count"], rows), *notes])


def app_start(r: dict) -> str:
    return "\n\n".join([
        table(["app healthy, median s", "import gradio, median s", "app / gradio", "target"],
              [[fixed(r["app_s"], 2), fixed(r["gradio_s"], 2), fixed(r["ratio"], 2), f"at most {r['target_ratio']}"]]),
        f"{count(len(r['runs']), 'run')}, in turns."])


def load(r: dict) -> str:
    before = r["before"]
    rows = [["before", before["rss_mb"], before["peak_mb"], None, None, None, None, None]]
    rows += [[f"after burst {i}", b["rss_mb"], b["peak_mb"], b["p50_ms"], b["p99_ms"], b["max_ms"],
              fixed(b["requests_per_s"], 1), b["errors"]] for i, b in enumerate(r["bursts"], 1)]
    return "\n\n".join([
        f"{count(len(r['bursts']), 'burst')} of {r['requests']} concurrent `POST /api/classify` of {r['photo']} "
        f"({r['bytes']:,} bytes):",
        table(["", "RSS MB", "peak MB", "p50 ms", "p99 ms", "max ms", "requests/s", "errors"], rows)])


def relabel_queue(r: dict) -> str:
    rows = [["decide (stored, committed, next item found)", fixed(r["decide_ms"]["median"], 1),
             fixed(r["decide_ms"]["max"], 1)],
            ["undo", fixed(r["undo_ms"]["median"], 1), fixed(r["undo_ms"]["max"], 1)],
            ["progress counts", fixed(r["progress_ms"]["median"], 1), fixed(r["progress_ms"]["max"], 1)],
            ["load and check the manifest (once)", fixed(r["load_ms"], 1), None],
            ["rank it (once)", fixed(r["rank_ms"], 1), None]]
    return "\n\n".join([f"{r['rows']:,} rows, {r['decided']:,} decisions already stored:",
                        table(["step", "median ms", "max ms"], rows)])


def relabel_grid(r: dict) -> str:
    def per_minute(value) -> str | None:
        return None if value is None else f"{value:,.0f}"

    rows = [["one image at a time", r["rows"], fixed(r["single_s"], 1), per_minute(r["single_per_minute"]), None],
            ["grid of crops", r["rows"], fixed(r["grid_s"], 1), per_minute(r["grid_per_minute"]),
             f"{fixed(r['ratio'], 1)}x (target at least {fixed(r['target_ratio'], 0)}x)"]]
    alike = "the same label from both on every row" if r["decisions_alike"] else "NOT the same labels from both"
    return "\n\n".join([
        table(["view", "rows", "seconds", "decisions a minute", "grid / single"], rows),
        f"A scripted reviewer in Chromium who knows the answers and spends no time looking decides the same "
        f"{r['rows']:,} generated images in each view, under two names; the store then holds {alike}. So the "
        f"figures are what the app costs a decision (round trips and drawing), not a person's looking time."])


def relabel(r: dict) -> str:
    top, flipped = r["reviewed_top"], r["flipped"]
    parts = [
        table(["rows", "with a face", "labels flipped", "suspects looked at", "flips among them", "recall"],
              [[r["rows"], r["with_face"], flipped, top, round(r["recall_in_top"] * flipped),
                fixed(r["recall_in_top"], 3)]]),
        table(["score", f"recall in the top {top:,}"],
              [[name, fixed(recall, 3)] for name, recall in r["recall_by_method"].items()]),
        f"Ranked by {r['method']}, from the {r['probabilities']}. A reviewer who knows the truth decides the top "
        f"{top:,} (median {r['decide_ms_median']} ms a decision): "
        f"{count(r['corrected_counts'].get('flipped', 0), 'label')} flipped back, "
        f"{count(r['wrong_labels_left'], 'wrong label')} left."]
    test = {name: by_seed for name, by_seed in r.get("test", {}).items() if by_seed}
    if test:
        seeds = list(next(iter(test.values())))
        rows = []
        for name, by_seed in test.items():
            runs = list(by_seed.values())
            rows.append([name, *[f"{by_seed[s]['f1']:.3f} ({by_seed[s]['roc_auc']:.3f})" for s in seeds],
                         fixed(sum(m["f1"] for m in runs) / len(runs), 3),
                         fixed(sum(m["precision"] for m in runs) / len(runs), 3)])
        faces = next(iter(next(iter(test.values())).values()))["n"]
        parts += [f"Test F1 (ROC-AUC) on {faces:,} faces with clean labels, by the manifest trained on:",
                  table(["manifest", *[f"seed {s}" for s in seeds], "mean F1", "mean precision"], rows)]
    return "\n\n".join(parts)


def workers(r: dict) -> str:
    base = next(e for e in r["engines"] if e["engine"] == "workers 1")["seconds"]
    rows = [[e["engine"], fixed(e["seconds"], 2), fixed(e["photos_per_s"], 1), fixed(e["seconds"] / base, 2),
             e["same_rows"], f"at most {r['target']}" if e["engine"] == "workers 2" else None]
            for e in r["engines"]]
    return "\n\n".join([
        table(["engine", "wall s, median", "photos/s", "wall / workers 1", "rows identical", "target"], rows),
        f"{r['photos']:,} CelebA-HQ photos, `glasses predict ... --format csv --output FILE` in a fresh process "
        f"each time, start-up included; median of {count(r['runs'], 'run')} each, in turns, after one untimed "
        f"run. workers 2 / workers 1: {fixed(r['ratio'], 3)}."
        + (f" The bound, two independent one-thread processes on half the photos each at once: "
           f"{fixed(r['bound'], 3)}." if r.get("bound") is not None else "")])


RENDERERS = {"speed.e2e": speed_e2e, "speed.large": speed_large, "speed.found": speed_found,
             "speed.groups": speed_groups, "speed.empty": speed_empty, "app_start": app_start, "load": load,
             "relabel_queue": relabel_queue, "relabel_grid": relabel_grid, "relabel": relabel,
             "workers": workers}


# -------------------------------------------------------------------------------------------------- the page

def figures(results: Path, source: str) -> dict | None:
    """The record a mark names (`speed.json#e2e`: that section of the file), or None where there is none yet."""
    name, _, section = source.partition("#")
    path = results / name
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as err:
        raise TableError(f"{path}: not JSON ({err})") from None
    if section:
        data = data.get("sections", {}).get(section)
    return data


def render_block(record: dict, source: str) -> str:
    kind = record.get("bench")
    if kind not in RENDERERS:
        raise TableError(f"{source}: no table for bench {kind!r}; known: {', '.join(RENDERERS)}")
    try:
        body = RENDERERS[kind](record)
    except (KeyError, TypeError, IndexError) as err:
        raise TableError(f"{source}: figures of bench {kind!r} lack {err}") from None
    return f"\n{body}\n\n{origin(record)}\n\n"


def render(text: str, results: Path) -> tuple[str, list[str], list[str]]:
    """`text` with every marked table rendered from `results`, the sources rendered, and those kept as text."""
    rendered, kept = [], []

    def replace(match: re.Match) -> str:
        source = match["source"]
        record = figures(results, source)
        if record is None:
            kept.append(source)
            return match.group(0)
        rendered.append(source)
        return match.group(1) + render_block(record, source) + match.group(4)

    return BLOCK.sub(replace, text), rendered, kept


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", type=Path, default=RESULTS,
                        help="folder of the JSON figures (default: %(default)s)")
    parser.add_argument("--doc", type=Path, default=DOC, help="the page to render (default: %(default)s)")
    parser.add_argument("--check", action="store_true", help="change nothing; exit status 1 where the page differs")
    args = parser.parse_args(argv)
    try:
        text = args.doc.read_text(encoding="utf-8")
        new, rendered, kept = render(text, args.results)
    except (OSError, TableError) as err:
        print(f"bench/tables.py: {err}", file=sys.stderr)
        return 2
    print(f"rendered from JSON: {', '.join(rendered) or 'none'}; kept as text (no JSON yet): "
          f"{', '.join(kept) or 'none'}", file=sys.stderr)
    if args.check:
        if new != text:
            print(f"{args.doc} differs from what {args.results} gives: run python bench/tables.py", file=sys.stderr)
            return 1
        return 0
    if new != text:
        args.doc.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
