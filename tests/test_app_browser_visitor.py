"""A visitor's side of the app in headless Chromium (as tests/test_app_browser.py drives it): the examples, the
headline verdict, the overlay's download name, the Batch gallery, zip and counts, a phone's screen, and the
Model tab's tables. The photos are the shipped examples (webapp/examples/), so no dataset photo is needed."""
from __future__ import annotations

import io
import shutil
import zipfile

import pytest

from tests.conftest import CHROMIUM
from tests.test_app_browser import TIMEOUT_MS
from webapp.classify_tab import EXAMPLE_PHOTOS, EXAMPLES_FOLDER

pytestmark = [pytest.mark.browser, pytest.mark.slow,
              pytest.mark.skipif(not CHROMIUM, reason="Debian's chromium is not installed "
                                                     "(apt-get install -y chromium; or set CHROMIUM_PATH)")]
DESKTOP = {"width": 1280, "height": 1000}
PHONE = {"width": 390, "height": 844}


def open_app(browser, app_server, viewport: dict):
    page = browser.new_page(viewport=viewport, accept_downloads=True)
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(app_server.url)
    return page


@pytest.fixture
def page(browser, app_server):
    """The app on a desktop's screen."""
    page = open_app(browser, app_server, DESKTOP)
    yield page
    page.close()


@pytest.fixture
def phone(browser, app_server):
    """The app on a phone's screen, 390 px wide."""
    page = open_app(browser, app_server, PHONE)
    yield page
    page.close()


def example(name: str) -> str:
    return str(EXAMPLES_FOLDER / name)


def cells(page, table: str, row: int = 0) -> list:
    """The cells of a row of a gr.Dataframe (a virtual table: its body cells are divs, `cell-ROW-COLUMN`)."""
    return page.locator(f'{table} [data-testid^="cell-{row}-"]').all()


def test_clicking_an_example_classifies_it_once(page, app_server):
    joins_before = app_server.server_log().count("POST /gradio_api/queue/join")
    page.locator("#classify-examples button.gallery-item").nth(EXAMPLE_PHOTOS.index("sunglasses.jpg")).click()
    page.locator("#verdict").get_by_text("sunglasses.jpg: 1 face (1 with glasses)").wait_for()
    page.locator("#headline").get_by_text("glasses 99%").wait_for()   # sunglasses are glasses
    assert page.locator("#overlay img").count() == 1
    page.locator("#classify-examples button.gallery-item").nth(EXAMPLE_PHOTOS.index("group.jpg")).click()
    page.locator("#verdict").get_by_text("group.jpg: 3 faces (1 with glasses)").wait_for()
    page.locator("#headline").get_by_text("(largest of 3 faces)").wait_for()
    page.locator("#classify-examples button.gallery-item").nth(EXAMPLE_PHOTOS.index("no_face.jpg")).click()
    page.locator("#headline").get_by_text("no face found").wait_for()
    page.wait_for_timeout(2000)   # time for a second run, were one on its way
    assert app_server.server_log().count("POST /gradio_api/queue/join") - joins_before == 3


def test_an_upload_gets_a_headline_percentages_and_an_overlay_named_after_it(page, tmp_path):
    photo = shutil.copy(example("glasses.jpg"), tmp_path / "holiday.jpg")
    page.locator("#photo input[type=file]").set_input_files(photo)
    page.locator("#headline").get_by_text("glasses 99%").wait_for()
    label, probability = [cell.inner_text().strip() for cell in cells(page, "#faces-table")[:2]]
    assert label == "glasses" and probability == "99.4%"   # the label, then P(glasses) in percent
    shown_json = "".join(page.locator("#faces-json").inner_text().split())
    assert '"glasses_prob":0.994' in shown_json   # the JSON keeps the probability as it is
    with page.expect_download() as download:
        page.locator("#overlay a[download]").first.click()
    assert download.value.suggested_filename == "holiday_overlay.jpg"


def test_batch_shows_counts_a_gallery_and_a_zip_of_the_drawn_photos(page, tmp_path):
    with zipfile.ZipFile(tmp_path / "more.zip", "w") as archive:
        archive.write(example("group.jpg"), "trip/group.jpg")
        archive.write(example("no_face.jpg"), "trip/coffee.jpg")
    (tmp_path / "notes.jpg").write_text("not a photo")
    page.get_by_role("tab", name="Batch").click()
    page.locator("#batch-files input[type=file]").set_input_files(
        [example("glasses.jpg"), example("no_glasses.jpg"), tmp_path / "notes.jpg", tmp_path / "more.zip"])
    page.locator("#batch-run").click()
    page.get_by_text("5 faces (2 with glasses), 1 photo without a face, 1 unreadable file").wait_for()
    counts = [cell.inner_text().strip() for cell in cells(page, "#batch-counts")]
    assert counts == ["5", "5", "2", "1", "1"]   # photos, faces, with glasses, no face, errors
    gallery = page.locator("#batch-gallery")
    gallery.locator("img").nth(3).wait_for()
    assert gallery.locator("img").count() == 4   # every photo read; notes.jpg is only a row
    assert "more.zip/trip/group.jpg: no glasses 100% (largest of 3 faces)" in gallery.inner_text()   # captions

    with page.expect_download() as download:
        page.locator("#batch-zip a[download]").first.click()
    with zipfile.ZipFile(io.BytesIO(open(download.value.path(), "rb").read())) as archive:
        assert archive.namelist() == ["glasses_overlay.jpg", "no_glasses_overlay.jpg",
                                      "more.zip/trip/group_overlay.jpg", "more.zip/trip/coffee_overlay.jpg"]
    assert download.value.suggested_filename == "glasses_overlays.zip"
    results_top = page.locator("#batch-counts").bounding_box()["y"]
    assert results_top < page.viewport_size["height"]   # the results start on the first screen


def test_on_a_phone_the_verdict_follows_the_photo_on_the_first_screen(phone):
    phone.locator("#photo input[type=file]").set_input_files(example("glasses.jpg"))
    headline = phone.locator("#headline")
    headline.get_by_text("glasses 99%").wait_for()
    box = headline.bounding_box()
    assert phone.evaluate("() => window.scrollY") == 0
    assert box["y"] + 40 < PHONE["height"], box   # its verdict line is on the first screen
    assert box["y"] > phone.locator("#photo").bounding_box()["y"]   # below the photo, not beside it

    label, probability = cells(phone, "#faces-table")[:2]
    label.scroll_into_view_if_needed()
    for cell in (label, probability):
        cell_box = cell.bounding_box()
        assert 0 <= cell_box["x"] and cell_box["x"] + cell_box["width"] <= PHONE["width"], cell_box
    assert (label.inner_text().strip(), probability.inner_text().strip()) == ("glasses", "99.4%")


def test_model_tab_shows_its_counts_and_provenance_as_tables(page):
    import json

    from tests.conftest import REPO

    card = json.loads((REPO / "weights" / "model_card.json").read_text())
    page.get_by_role("tab", name="Model").click()
    provenance = page.locator("#model-provenance")
    provenance.get_by_text(card["provenance"]["code"]["commit"], exact=False).wait_for()
    assert card["provenance"]["manifest"]["sha256"] in provenance.inner_text()
    assert "celeba_hq" in page.locator("#model-test-metrics").inner_text()
    assert "flipped to glasses" in page.locator("#model-reviews").inner_text()
    plot = page.locator(".model-plot img").first
    plot.wait_for()
    assert plot.bounding_box()["width"] >= 600   # at the column's width, not a thumbnail


def test_on_a_phone_the_model_plots_keep_a_readable_width_and_scroll_sideways(phone):
    phone.get_by_role("tab", name="Model").click()
    plot = phone.locator(".model-plot img").first
    plot.wait_for()
    box = plot.bounding_box()
    assert box["width"] >= 640 and box["x"] >= 0, box   # wider than the screen, from its left edge on
