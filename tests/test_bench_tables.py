"""bench/tables.py: docs/benchmarks.md's tables rendered from the benches' JSON, text kept where none exists."""
from __future__ import annotations

import json
import re

from bench import results, tables

ORIGIN = {"command": "python bench/x.py --full", "date": "2026-12-01", "cpus": 2}

FIXTURES = {
    "speed.json": {"bench": "speed", "sections": {
        "e2e": {"bench": "speed.e2e", **ORIGIN, "photos": 1000, "threads": 2, "ours_ms": 2.82, "baseline_ms": 6.98,
                "ratio": 0.404, "target": 0.4, "ours_with_face": 1000, "baseline_with_face": 991,
                "stage_ms": {"decode": 0.56, "detect": 1.33, "classify": 0.9}, "seconds": 20},
        "large": {"bench": "speed.large", **ORIGIN, "per_canvas": 10, "threads": 2, "target": 0.7, "face_px": [80, 400],
                  "canvases": [{"canvas": "1732x1155", "megapixels": 2, "photos": 10, "faces": 52, "ours_found": 52,
                                "baseline_found": 50, "ours_ms": 84.9, "ours_detect_ms": 40.1, "baseline_ms": 163.3,
                                "ratio": 0.52}]},
        "found": {"bench": "speed.found", **ORIGIN, "per_source": 0, "sources": [
            {"source": "celeba_hq", "photos": 14200, "whole": True, "ours": 14196, "mtcnn": None, "ours_ms": 3.1,
             "mtcnn_ms": None, "target": [14195, 14200], "unreadable": 0},
            {"source": "cmu_faces", "photos": 313, "whole": True, "ours": 273, "mtcnn": 224, "ours_ms": 2.0,
             "mtcnn_ms": 30.0, "target": [224, 313], "unreadable": 0}]},
        "groups": {"bench": "speed.groups", **ORIGIN, "photos": 105, "per_width_and_canvas": 5, "seed": 20261201,
                   "portraits": 995, "threads": 2, "ours_ms": 126.0, "mtcnn_ms": 279.0,
                   "by_width": [{"face_px": 40, "faces": 180, "ours_recall": 1.0, "mtcnn_recall": 0.9667}],
                   "by_canvas": [{"canvas": "1732x1155", "megapixels": 2, "photos": 35, "ours_ms": 51.0,
                                  "mtcnn_ms": 201.0}],
                   "false_detections": {"ours": 1, "mtcnn": 4}},
        "empty": {"bench": "speed.empty", **ORIGIN, "images": 45, "skimage": 21, "synthetic": 24, "faces": 1,
                  "with_faces": {"skimage coins 384x303": 1}, "skipped": {"lfw": "needs a download"}}}},
    "app_start.json": {"bench": "app_start", **ORIGIN, "app_s": 3.34, "gradio_s": 3.33, "ratio": 1.0,
                       "target_ratio": 1.5, "runs": [{"app_s": 3.34, "gradio_s": 3.33, "load_average": 2.1}] * 3},
    "load.json": {"bench": "load", **ORIGIN, "photo": "subject01.gif", "bytes": 28_000, "requests": 50,
                  "before": {"rss_mb": 205, "peak_mb": 210},
                  "bursts": [{"rss_mb": 213, "peak_mb": 230, "p50_ms": 200, "p90_ms": 300, "p99_ms": 330,
                              "max_ms": 340, "mean_ms": 210, "wall_s": 1.2, "requests_per_s": 41.7, "errors": 0}]},
    "relabel_queue.json": {"bench": "relabel_queue", **ORIGIN, "rows": 15000, "decided": 5000, "steps": 200,
                           "load_ms": 2300.0, "rank_ms": 200.0, "decide_ms": {"median": 4.9, "max": 13.0, "runs": 200},
                           "undo_ms": {"median": 4.8, "max": 9.0, "runs": 20},
                           "progress_ms": {"median": 72.0, "max": 80.0, "runs": 5}},
    "relabel_grid.json": {"bench": "relabel_grid", **ORIGIN, "rows": 96, "single_s": 40.2, "grid_s": 3.0,
                          "single_per_minute": 143.0, "grid_per_minute": 1903.0, "ratio": 13.28, "target_ratio": 3.0,
                          "decisions_alike": True},
    "relabel.json": {"bench": "relabel", **ORIGIN, "rows": 3743, "with_face": 3702, "flipped": 166,
                     "reviewed_top": 332, "recall_in_top": 0.994, "method": "self_confidence",
                     "recall_by_method": {"self_confidence": 0.994, "cleanlab normalized_margin": 0.994},
                     "probabilities": "out-of-fold pred_prob column of oof.csv",
                     "corrected_counts": {"flipped": 165, "kept": 167}, "wrong_labels_left": 1,
                     "decide_ms_median": 2.4,
                     "test": {"clean": {"0": {"n": 377, "f1": 0.942, "roc_auc": 0.999, "precision": 0.97},
                                        "1": {"n": 377, "f1": 0.982, "roc_auc": 1.0, "precision": 0.98}},
                              "flipped": {"0": {"n": 377, "f1": 0.936, "roc_auc": 0.998, "precision": 0.9},
                                          "1": {"n": 377, "f1": 0.911, "roc_auc": 0.999, "precision": 0.9}}},
                     "test_mean_f1": {"clean": 0.9615, "flipped": 0.9235}},
    "workers.json": {"bench": "workers", **ORIGIN, "photos": 400, "runs": 3, "target": 0.75, "ratio": 0.62,
                     "engines": [{"engine": "workers 1", "seconds": 4.0, "photos_per_s": 100.0, "runs_s": [4.0] * 3,
                                  "same_rows": True},
                                 {"engine": "workers 2", "seconds": 2.48, "photos_per_s": 161.3, "runs_s": [2.48] * 3,
                                  "same_rows": True},
                                 {"engine": "ray", "seconds": 12.0, "photos_per_s": 33.3, "runs_s": [12.0] * 3,
                                  "same_rows": True}]},
}


def mark(source: str, body: str = "hand-written figures\n") -> str:
    return f"<!-- bench-table {source} -->\n{body}<!-- /bench-table -->\n"


def write_results(folder, names=None):
    folder.mkdir(exist_ok=True)
    for name, data in FIXTURES.items():
        if names is None or name in names:
            (folder / name).write_text(json.dumps(data))
    return folder


def rendered(tmp_path, source: str) -> str:
    text, done, kept = tables.render(mark(source), write_results(tmp_path / "results"))
    assert (done, kept) == ([source], [])
    return text


def test_each_table_is_rendered_between_its_marks_with_its_command_and_date(tmp_path):
    sources = ["speed.json#e2e", "speed.json#large", "speed.json#found", "speed.json#groups", "speed.json#empty",
               "app_start.json", "load.json", "relabel_queue.json", "relabel_grid.json", "relabel.json"]
    for source in sources:
        text = rendered(tmp_path, source)
        assert text.startswith(f"<!-- bench-table {source} -->\n") and text.endswith("<!-- /bench-table -->\n")
        assert "hand-written" not in text
        assert "From `python bench/x.py --full`, 2026-12-01, 2 CPUs." in text
        assert re.search(r"^\|---\|", text, re.MULTILINE), source   # a markdown table


def test_the_figures_land_in_their_cells(tmp_path):
    assert "| 256 px CelebA-HQ (1,000) | 2.82 | 6.98 | 0.404 | at most 0.4 |" in rendered(tmp_path, "speed.json#e2e")
    assert "| 2 MP group photo, JPEG (10) | 52/52 | 50/52 | 84.9 | 40.1 | 163.3 | 0.52 | at most 0.7 |" \
        in rendered(tmp_path, "speed.json#large")
    found = rendered(tmp_path, "speed.json#found")
    assert "| celeba_hq | 14,196/14,200 | - | 14,195/14,200 |" in found   # MTCNN not run: a dash
    assert "| cmu_faces | 273/313 | 224/313 | 224/313 |" in found
    groups = rendered(tmp_path, "speed.json#groups")
    assert "| 40 | 180 | 100.0% | 96.7% |" in groups and "False detections: ours 1, MTCNN 4." in groups
    empty = rendered(tmp_path, "speed.json#empty")
    assert "| faces found | 1 |" in empty and "skimage coins 384x303 (1)" in empty
    assert "| 3.34 | 3.33 | 1.00 | at most 1.5 |" in rendered(tmp_path, "app_start.json")
    load = rendered(tmp_path, "load.json")
    assert "| before | 205 | 210 | - |" in load and "| after burst 1 | 213 | 230 | 200 | 330 | 340 | 41.7 | 0 |" in load
    assert "| undo | 4.8 | 9.0 |" in rendered(tmp_path, "relabel_queue.json")
    grid = rendered(tmp_path, "relabel_grid.json")
    assert "| one image at a time | 96 | 40.2 | 143 | - |" in grid
    assert "| grid of crops | 96 | 3.0 | 1,903 | 13.3x (target at least 3x) |" in grid
    assert "the same label from both on every row" in grid
    engines = rendered(tmp_path, "workers.json")
    assert "| workers 2 | 2.48 | 161.3 | 0.62 | yes | at most 0.75 |" in engines
    assert "| ray | 12.00 | 33.3 | 3.00 | yes | - |" in engines and "workers 2 / workers 1: 0.620." in engines
    relabel = rendered(tmp_path, "relabel.json")
    assert "| 3,743 | 3,702 | 166 | 332 | 165 | 0.994 |" in relabel
    assert "| clean | 0.942 (0.999) | 0.982 (1.000) | 0.962 | 0.975 |" in relabel
    assert "165 labels flipped back, 1 wrong label left" in relabel


def test_without_its_json_a_table_keeps_the_text_between_its_marks(tmp_path):
    page = "# Benchmarks\n\n" + mark("app_start.json", "Not generated yet: 3.34 s.\n") + mark("speed.json#groups")
    folder = write_results(tmp_path / "results", names={"speed.json"})
    speed = json.loads((folder / "speed.json").read_text())
    del speed["sections"]["groups"]
    (folder / "speed.json").write_text(json.dumps(speed))
    text, done, kept = tables.render(page, folder)
    assert text == page and done == [] and kept == ["app_start.json", "speed.json#groups"]


def test_rendering_twice_changes_nothing_and_check_says_whether_the_page_is_current(tmp_path):
    folder = write_results(tmp_path / "results")
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\nProse stays.\n\n" + mark("load.json") + "\nMore prose.\n")
    args = ["--results", str(folder), "--doc", str(doc)]
    assert tables.main([*args, "--check"]) == 1
    assert "hand-written" in doc.read_text()   # --check writes nothing
    assert tables.main(args) == 0
    once = doc.read_text()
    assert once.startswith("# Benchmarks\n\nProse stays.\n\n") and once.endswith("\nMore prose.\n")
    assert tables.main(args) == 0 and doc.read_text() == once
    assert tables.main([*args, "--check"]) == 0


def test_an_unknown_bench_or_a_broken_file_is_named(tmp_path, capsys):
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "odd.json").write_text(json.dumps({"bench": "odd", **ORIGIN}))
    (folder / "broken.json").write_text("{not json")
    (folder / "short.json").write_text(json.dumps({"bench": "app_start", **ORIGIN}))
    for name, message in (("odd.json", "no table for bench 'odd'"), ("broken.json", "broken.json: not JSON"),
                          ("short.json", "short.json: figures of bench 'app_start' lack")):
        doc = tmp_path / f"{name}.md"
        doc.write_text(mark(name))
        assert tables.main(["--results", str(folder), "--doc", str(doc)]) == 2
        assert message in capsys.readouterr().err
        assert doc.read_text() == mark(name)


def test_the_page_marks_only_what_the_benches_write():
    """Every mark in docs/benchmarks.md names a bench's JSON file, its default `<bench>.json` or a
    `<bench>-<run>.json` given with --json (and a section bench/speed.py runs), with a table for it, so that
    running the bench and then bench/tables.py fills it."""
    sections = {"e2e", "large", "found", "groups", "empty"}
    sources = tables.BLOCK.findall(tables.DOC.read_text(encoding="utf-8"))
    assert sources
    for _, source, _, _ in sources:
        name, _, section = source.partition("#")
        bench = name.removesuffix(".json").split("-")[0]
        assert name.endswith(".json") and results.default_path(bench).parent == tables.RESULTS
        assert (section in sections and bench == "speed") if section else bench in tables.RENDERERS, source


def test_a_record_names_its_command_date_and_machine():
    record = results.record("load", {"photo": "a.jpg"}, argv=["/abs/bench/load.py", "--photo", "my photo.jpg"])
    assert record["command"] == "python bench/load.py --photo 'my photo.jpg'"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", record["date"]) and record["bench"] == "load"
    assert results.number(float("nan")) is None and results.number(2.345, 1) == 2.3
