"""The README's screenshots of the app, in docs/, taken in headless Chromium on a fresh `python app.py`.

    python bench/screenshots.py

They show no photo of a person: the dataset photos' licences forbid publishing them, so the Classify tab is
shown before an upload and the Batch tab with generated, face-free images and a file that is not an image.
"""
from __future__ import annotations

import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

from PIL import Image
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.app_server import running_app  # noqa: E402

DOCS = Path(__file__).resolve().parent.parent / "docs"


def batch_inputs(folder: Path) -> list[Path]:
    for i, colour in enumerate([(120, 140, 160), (200, 180, 150)]):
        Image.new("RGB", (320, 240), colour).save(folder / f"street_{i}.jpg")
    with zipfile.ZipFile(folder / "holiday.zip", "w") as archive:
        archive.write(folder / "street_0.jpg", "day1/beach.jpg")
    (folder / "notes.jpg").write_text("not a photo")
    return [folder / "street_0.jpg", folder / "street_1.jpg", folder / "notes.jpg", folder / "holiday.zip"]


def main() -> None:
    DOCS.mkdir(exist_ok=True)
    chromium = shutil.which("chromium") or sys.exit("Debian's chromium is needed: apt-get install -y chromium")
    with tempfile.TemporaryDirectory() as tmp, running_app() as app, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(120_000)
        page.goto(app.url)
        page.locator("#photo").wait_for()
        page.screenshot(path=DOCS / "app-classify.png")

        page.get_by_role("tab", name="Batch").click()
        page.locator("#batch-files input[type=file]").set_input_files(batch_inputs(Path(tmp)))
        page.locator("#batch-run").click()
        page.locator("#batch-csv a[download]").first.wait_for()
        page.screenshot(path=DOCS / "app-batch.png", full_page=True)

        page.get_by_role("tab", name="Model").click()
        page.locator("#model-card").wait_for()
        page.screenshot(path=DOCS / "app-model.png", full_page=True)
        browser.close()
    print("\n".join(str(p.relative_to(DOCS.parent)) for p in sorted(DOCS.glob("app-*.png"))))


if __name__ == "__main__":
    main()
