"""Decisions a minute in the Relabel tab: the grid of crops against one image at a time, on the same rows, in
the same run, by a scripted reviewer in a real browser.

    nice -n 19 python bench/relabel_grid.py [--rows 96] [--json bench/results/relabel_grid.json]

`python app.py` reviews a synthetic manifest of `--rows` generated 256 px images (no photo from the data) with
out-of-fold pred_prob, in Debian's chromium driven by Playwright. A scripted reviewer who knows the answers
(every fifth row's label is wrong) and spends no time looking decides every row twice, under two names: first
one image at a time (wait for the image, press K or F), then in the grid (wait for the page, press the keys of
the crops to flip, Enter), over the same rows (the second reviewer's filter takes the rows the first kept or
flipped). So the figures are what the app costs a reviewer per decision, round trips, drawing and all, not how
long a person looks; the target is the grid at least 3 times as many decisions a minute. At the end the store
must hold the same label from both reviewers on every row, or the run fails.
"""
from __future__ import annotations

import argparse
import csv
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import results  # noqa: E402
from relabel import outcome  # noqa: E402
from relabel.store import ReviewStore  # noqa: E402
from tests.app_server import running_app  # noqa: E402

TARGET_RATIO = 3.0
WRONG_EVERY = 5                # rows 0, 5, 10, ... carry the wrong label: the reviewer flips them
TIMEOUT_MS = 120_000
SHOWN_JS = "document.querySelector('#review-shown textarea, #review-shown input').value"
PAGE_JS = "(document.querySelector('#review-grid .review-page') || {dataset: {}}).dataset.page || ''"


def write_review_set(folder: Path, rows: int) -> tuple[Path, Path, Path]:
    """Generated images and a manifest whose pred_prob ranks them in file order; returns manifest, data, db."""
    draw_rng = random.Random(0)
    data = folder / "data"
    (data / "gen").mkdir(parents=True)
    manifest_rows = []
    for i in range(rows):
        image = Image.effect_noise((256, 256), 40).convert("RGB")
        ImageDraw.Draw(image).ellipse((70, 50, 186, 206), fill=tuple(draw_rng.randrange(90, 220) for _ in range(3)))
        image.save(data / "gen" / f"{i:04d}.jpg", quality=90)
        label = i % 2
        wrong = i % WRONG_EVERY == 0
        # label quality rises with i: row 0 is the most suspect
        quality = 0.01 + 0.98 * i / rows
        manifest_rows.append({"path": f"gen/{i:04d}.jpg", "label": label, "source": "generated", "group": f"g{i}",
                              "split": "train", "pred_prob": round(quality if label == 1 else 1 - quality, 4),
                              "wrong": wrong})
    with open(folder / "manifest.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["path", "label", "source", "group", "split", "pred_prob"])
        writer.writeheader()
        writer.writerows({k: v for k, v in row.items() if k != "wrong"} for row in manifest_rows)
    return folder / "manifest.csv", data, folder / "reviews.sqlite"


def flipped(path: str) -> bool:
    return int(Path(path).stem) % WRONG_EVERY == 0


def start(page, url: str, reviewer: str, view: str, second_look: bool) -> None:
    page.goto(url)
    page.get_by_role("tab", name="Relabel").click()
    page.locator("#review-mode").get_by_label(view).check()
    if second_look:   # the rows the first reviewer decided
        statuses = page.locator("#review-statuses")
        statuses.get_by_label("kept").check()
        statuses.get_by_label("flipped").check()
        statuses.get_by_label("unreviewed").uncheck()
    page.locator("#review-reviewer input, #review-reviewer textarea").first.fill(reviewer)
    page.locator("#review-start").click()


def review_single(page, rows: int) -> float:
    """Seconds for `rows` decisions one image at a time, from the first image on screen."""
    page.wait_for_function(f"() => {SHOWN_JS} !== ''")
    page.locator("#review-image img").wait_for()
    started = time.perf_counter()
    for _ in range(rows):
        on_screen = page.evaluate(f"() => {SHOWN_JS}")
        page.keyboard.press("f" if flipped(on_screen) else "k")
        page.wait_for_function(f"() => {SHOWN_JS} !== {on_screen!r}")
    return time.perf_counter() - started


# The page on screen, read at one moment: its token and its crops' paths ([] and "" once the pass is done).
PAGE_NOW_JS = """() => {
  const p = document.querySelector('#review-grid .review-page');
  return p ? [p.dataset.page, [...p.querySelectorAll('.review-tile')].map((t) => t.dataset.path)] : ['', []];
}"""
# The server's answer to a page has arrived and been drawn: the count by this reviewer is up to `decided`, and
# the grid holds another page whose first crop is the row the session shows (the hidden path box), or says the
# pass is done. (Gradio draws an event's outputs one at a time, the grid's HTML a moment after the text beside
# it, so every output the next round reads is waited for.)
NEXT_PAGE_JS = """([old, decided]) => {
  const progress = document.querySelector('#review-progress').innerText;
  if (!progress.includes(`by you ${decided} `)) return false;
  const shown = document.querySelector('#review-shown textarea, #review-shown input').value;
  const p = document.querySelector('#review-grid .review-page');
  if (!p) return shown === '' && Boolean(document.querySelector('#review-grid .review-empty'));
  const first = p.querySelector('.review-tile');
  return p.dataset.page !== old && Boolean(first) && first.dataset.path === shown;
}"""


def review_grid(page, rows: int) -> float:
    """Seconds for `rows` decisions a page at a time, from the first page on screen."""
    from webapp.review_grid import KEYS

    page.wait_for_function(f"() => {PAGE_JS} !== ''")
    started = time.perf_counter()
    decided = 0
    while decided < rows:
        token, paths = page.evaluate(PAGE_NOW_JS)
        for i, path in enumerate(paths):
            if flipped(path):
                page.keyboard.press(KEYS[i])
        page.keyboard.press("Enter")
        decided += len(paths)
        page.wait_for_function(NEXT_PAGE_JS, arg=[token, decided])
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=96, help="rows each reviewer decides (default: %(default)s)")
    results.add_json_flag(parser, "relabel_grid")
    args = parser.parse_args()
    chromium = shutil.which("chromium") or sys.exit("Debian's chromium is needed: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    from webapp.relabel_tab import GRID, SINGLE

    with tempfile.TemporaryDirectory() as tmp:
        manifest, data, db = write_review_set(Path(tmp), args.rows)
        with running_app("--manifest", str(manifest), "--data", str(data), "--db", str(db)) as app, \
                sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.set_default_timeout(TIMEOUT_MS)
            start(page, app.url, "single", SINGLE, second_look=False)
            single_s = review_single(page, args.rows)
            start(page, app.url, "grid", GRID, second_look=True)
            grid_s = review_grid(page, args.rows)
            browser.close()
        current = ReviewStore(db).current()
    labels = {path: {d.reviewer: outcome.verdict(d) for d in decisions} for path, decisions in current.items()}
    expected = {f"gen/{i:04d}.jpg": (1 - i % 2 if i % WRONG_EVERY == 0 else i % 2) for i in range(args.rows)}
    wanted = {path: {"single": label, "grid": label} for path, label in expected.items()}
    agree = labels == wanted
    for path in [p for p in sorted({*labels, *wanted}) if labels.get(p) != wanted.get(p)][:5]:
        print(f"  {path}: stored {labels.get(path)}, expected {wanted.get(path)}", file=sys.stderr)
    single_rate, grid_rate = args.rows / single_s * 60, args.rows / grid_s * 60
    ratio = grid_rate / single_rate
    print(f"{args.rows} rows, each decided by both reviewers{'' if agree else ' NOT ALIKE'}:")
    print(f"  one image at a time {single_s:7.1f} s  {single_rate:7.0f} decisions a minute")
    print(f"  grid of crops       {grid_s:7.1f} s  {grid_rate:7.0f} decisions a minute  ({ratio:.1f}x; target "
          f"{TARGET_RATIO:.0f}x)")
    results.write(args.json, results.record("relabel_grid", {
        "rows": args.rows, "single_s": results.number(single_s, 1), "grid_s": results.number(grid_s, 1),
        "single_per_minute": results.number(single_rate, 0), "grid_per_minute": results.number(grid_rate, 0),
        "ratio": results.number(ratio, 2), "target_ratio": TARGET_RATIO, "decisions_alike": agree}))
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
