"""The screenshots of the app in docs/ (README.md and docs/app-and-rest.md show them), taken in headless Chromium
on a fresh `python app.py`.

    python bench/screenshots.py

They show no photo of a person: the dataset photos' licences forbid publishing them, so the Classify tab is
shown before an upload, the Batch tab with generated, face-free images and a file that is not an image, and
the Relabel tab on a made-up manifest of such images.
"""
from __future__ import annotations

import csv
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

from PIL import Image
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.app_server import running_app  # noqa: E402
from webapp.classify_tab import EXAMPLE_PHOTOS  # noqa: E402

DOCS = Path(__file__).resolve().parent.parent / "docs"


def batch_inputs(folder: Path) -> list[Path]:
    for i, colour in enumerate([(120, 140, 160), (200, 180, 150)]):
        Image.new("RGB", (320, 240), colour).save(folder / f"street_{i}.jpg")
    with zipfile.ZipFile(folder / "holiday.zip", "w") as archive:
        archive.write(folder / "street_0.jpg", "day1/beach.jpg")
    (folder / "notes.jpg").write_text("not a photo")
    return [folder / "street_0.jpg", folder / "street_1.jpg", folder / "notes.jpg", folder / "holiday.zip"]


def review_inputs(folder: Path) -> list[str]:
    """app.py flags for a Relabel tab on four generated images with out-of-fold pred_prob."""
    data = folder / "data"
    (data / "street").mkdir(parents=True)
    rows = []
    for i, (label, prob) in enumerate([(1, 0.04), (0, 0.93), (1, 0.31), (0, 0.12)]):
        Image.linear_gradient("L").resize((256, 256)).rotate(90 * i).convert("RGB").save(data / f"street/{i}.jpg")
        rows.append({"path": f"street/{i}.jpg", "label": label, "source": "street", "group": f"g{i}",
                     "split": "train", "pred_prob": prob})
    with open(folder / "manifest.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return ["--manifest", str(folder / "manifest.csv"), "--data", str(data), "--db", str(folder / "reviews.sqlite")]


def main() -> None:
    DOCS.mkdir(exist_ok=True)
    chromium = shutil.which("chromium") or sys.exit("Debian's chromium is needed: apt-get install -y chromium")
    with tempfile.TemporaryDirectory() as tmp, running_app(*review_inputs(Path(tmp))) as app, \
            sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(120_000)
        page.goto(app.url)
        page.locator("#photo").wait_for()
        # A result, not the empty tab: the group example (public-domain photos, docs/examples.md).
        page.locator("#classify-examples button.gallery-item").nth(EXAMPLE_PHOTOS.index("group.jpg")).click()
        page.locator("#verdict").get_by_text("group.jpg: 3 faces").wait_for()
        page.locator("#overlay img").wait_for()
        page.screenshot(path=DOCS / "app-classify.png", full_page=True)

        page.get_by_role("tab", name="Batch").click()
        page.locator("#batch-files input[type=file]").set_input_files(batch_inputs(Path(tmp)))
        page.locator("#batch-run").click()
        page.locator("#batch-csv a[download]").first.wait_for()
        page.screenshot(path=DOCS / "app-batch.png", full_page=True)

        page.get_by_role("tab", name="Model").click()
        page.locator("#model-card").wait_for()
        page.screenshot(path=DOCS / "app-model.png", full_page=True)

        page.get_by_role("tab", name="Relabel").click()
        page.locator("#review-mode").get_by_label("One image at a time").check()
        page.locator("#review-reviewer input, #review-reviewer textarea").first.fill("ana")
        page.locator("#review-start").click()
        page.locator("#review-item").get_by_text("Rank 1 of 4").wait_for()
        page.keyboard.press("f")
        page.locator("#review-item").get_by_text("Rank 2 of 4").wait_for()
        page.screenshot(path=DOCS / "app-relabel.png", full_page=True)
        browser.close()
    print("\n".join(str(p.relative_to(DOCS.parent)) for p in sorted(DOCS.glob("app-*.png"))))


if __name__ == "__main__":
    main()
