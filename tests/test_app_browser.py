"""The app as a person uses it: headless Chromium (Debian's `chromium`, driven by Playwright) on `python app.py`.

Playwright's own browser downloads are not used (no internet for them); the tests skip, saying why, where
Debian's chromium is absent (`apt-get install -y chromium`, which .ci/run does).
"""
from __future__ import annotations

import csv
import io
import shutil
import zipfile

import pytest
from PIL import Image

from tests.conftest import CHROMIUM, DATA, needs_data

pytestmark = [pytest.mark.browser, pytest.mark.slow,
              pytest.mark.skipif(not CHROMIUM, reason="Debian's chromium is not installed "
                                                     "(apt-get install -y chromium; or set CHROMIUM_PATH)")]
TIMEOUT_MS = 120_000   # the model runs on a busy 2-core CPU in CI


@pytest.fixture
def page(browser, app_server):
    page = browser.new_page(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(app_server.url)
    yield page
    page.close()


def plain_png(path, size=(64, 48)) -> str:
    """A photo with no face in it."""
    Image.new("RGB", size, (120, 140, 160)).save(path)
    return str(path)


@needs_data
def test_upload_shows_overlay_table_and_json(page, tmp_path):
    photo = shutil.copy(DATA / "yalefaces" / "subject02.noglasses", tmp_path / "subject02.gif")
    page.locator("#photo input[type=file]").set_input_files(photo)
    overlay = page.locator("#overlay img")
    overlay.wait_for()
    assert overlay.evaluate("img => img.naturalWidth") == 320   # the photo with its boxes drawn on
    page.get_by_text("subject02.gif: 1 face (0 with glasses)").wait_for()
    assert "no_glasses" in page.locator("#faces-table").inner_text()
    assert '"glasses_prob"' in page.locator("#faces-json").inner_text()

    number = page.locator("#threshold input[type=number]")   # re-label: every face is at or above 0
    number.fill("0")
    number.press("Enter")
    page.get_by_text("subject02.gif: 1 face (1 with glasses)").wait_for()
    assert "no_glasses" not in page.locator("#faces-table").inner_text()


def test_batch_table_and_csv_download(page, tmp_path):
    with zipfile.ZipFile(tmp_path / "more.zip", "w") as archive:
        archive.write(plain_png(tmp_path / "inner.png"), "inner.png")
    (tmp_path / "notes.jpg").write_text("not a photo")
    page.get_by_role("tab", name="Batch").click()
    page.locator("#batch-files input[type=file]").set_input_files(
        [plain_png(tmp_path / "plain.png"), tmp_path / "notes.jpg", tmp_path / "more.zip"])
    page.locator("#batch-run").click()
    page.get_by_text("0 faces (0 with glasses), 2 photos without a face, 1 unreadable file").wait_for()
    table = page.locator("#batch-table").inner_text()
    assert "not an image" in table and "more.zip/inner.png" in table

    with page.expect_download() as download:
        page.locator("#batch-csv a[download]").first.click()
    rows = list(csv.DictReader(io.StringIO(open(download.value.path()).read())))
    assert [(r["name"], r["label"], r["error"]) for r in rows] == [
        ("plain.png", "no_face", ""), ("notes.jpg", "error", "not an image"), ("more.zip/inner.png", "no_face", "")]


def test_unreadable_photo_gets_a_message_not_a_traceback(page, tmp_path):
    (tmp_path / "notes.jpg").write_text("not a photo")
    page.locator("#photo input[type=file]").set_input_files(tmp_path / "notes.jpg")
    page.locator("#verdict").get_by_text("Cannot classify notes.jpg: not an image").wait_for()


def test_a_photo_dropped_onto_another_runs_once_and_an_error_replaces_the_old_result(page, app_server, tmp_path):
    """The second photo is one visitor action: one run (one queue join), one message; the first photo's
    overlay and table leave the screen, and the reason stays where the result goes."""
    photo = page.locator("#photo input[type=file]")
    photo.set_input_files(plain_png(tmp_path / "first.png"))
    page.locator("#verdict").get_by_text("first.png: no face found").wait_for()
    assert page.locator("#overlay img").count() == 1
    joins_before = app_server.server_log().count("POST /gradio_api/queue/join")
    (tmp_path / "notes.jpg").write_text("not a photo")
    photo.set_input_files(tmp_path / "notes.jpg")
    page.locator("#verdict").get_by_text("Cannot classify notes.jpg: not an image").wait_for()
    page.wait_for_timeout(3000)   # time for a second run, were one on its way
    assert app_server.server_log().count("POST /gradio_api/queue/join") - joins_before == 1
    assert "first.png" not in page.locator("#verdict").inner_text()
    assert page.locator("#overlay img").count() == 0
    assert "no_face" not in page.locator("#faces-table").inner_text()
    assert "not an image" in page.locator("#faces-json").inner_text()


def test_model_tab_shows_the_card(page):
    page.get_by_role("tab", name="Model").click()
    card = page.locator("#model-card")
    card.get_by_text("Test metrics").wait_for()
    assert "ROC-AUC" in card.inner_text()


def one_at_a_time(page) -> None:
    """The Relabel tab's single-image view (the grid is the default)."""
    page.locator("#review-mode").get_by_label("One image at a time").check()
    page.locator("#review-keep").wait_for()


def test_relabel_review_by_keys_and_clicks(page, review_set):
    """One image at a time: keys and buttons decide, the buttons name the label, and the line under the view
    says what the last decision did."""
    from relabel.store import ReviewStore

    _, _, db = review_set
    page.get_by_role("tab", name="Relabel").click()
    one_at_a_time(page)
    page.locator("#review-reviewer input, #review-reviewer textarea").first.press_sequentially("frank")  # f, k, n
    page.locator("#review-start").click()
    item, progress = page.locator("#review-item"), page.locator("#review-progress")
    item.get_by_text("Rank 1 of 6").wait_for()
    assert "imgs/img00.png" in item.inner_text()
    assert "out-of-fold pred_prob" in page.locator("#review-ranked-by").inner_text()
    page.wait_for_function("() => (document.querySelector('#review-image img') || {}).complete === true && "
                           "document.querySelector('#review-image img').naturalWidth > 0")
    assert page.locator("#review-image img").evaluate("img => img.naturalWidth") == 640   # 8 px, enlarged
    assert not ReviewStore(db).current()   # the name's letters typed into its box decided nothing

    assert page.locator("#review-keep").inner_text() == "Keep: glasses [K]"   # img00 is labelled glasses
    assert page.locator("#review-flip").inner_text() == "Flip to no glasses [F]"
    page.keyboard.press("f")
    item.get_by_text("Rank 2 of 6").wait_for()
    progress.get_by_text("labels changed 1").wait_for()
    page.locator("#review-last").get_by_text("Recorded: flipped img00.png to no glasses").wait_for()
    page.keyboard.press("z")
    item.get_by_text("Rank 1 of 6").wait_for()
    page.locator("#review-last").get_by_text("Undone: flipped img00.png to no glasses").wait_for()
    progress.get_by_text("Reviewed 0 of 6").wait_for()
    page.locator("#review-keep").click()
    item.get_by_text("Rank 2 of 6").wait_for()
    progress.get_by_text("Reviewed 1 of 6").wait_for()

    [decision] = ReviewStore(db).current()["imgs/img00.png"]
    assert (decision.reviewer, decision.kind) == ("frank", "keep")
    assert [(row["kind"], row["path"]) for row in ReviewStore(db).history()][:2] == [
        ("flip", "imgs/img00.png"), ("undo", "imgs/img00.png")]


# The path of the image on screen, as the Relabel tab's hidden box holds it once a view has arrived.
SHOWN_JS = "document.querySelector('#review-shown textarea, #review-shown input').value"


def shown_path(page) -> str:
    return page.evaluate(f"() => {SHOWN_JS}")


def name_box(page):
    return page.locator("#review-reviewer input, #review-reviewer textarea").first


def start_reviewing_kept_rows(page, reviewer: str) -> None:
    """Open the Relabel tab, filter on status 'kept' alone, start as `reviewer` and wait for the first row."""
    page.get_by_role("tab", name="Relabel").click()
    one_at_a_time(page)
    statuses = page.locator("#review-statuses")
    statuses.get_by_label("unreviewed").uncheck()
    statuses.get_by_label("kept").check()
    name_box(page).fill(reviewer)
    page.locator("#review-start").click()
    page.locator("#review-item").get_by_text("Rank").first.wait_for()


def test_relabel_enter_starts_and_keys_work_after_ticking_a_filter(page, review_set):
    """Enter in the name box starts the session and leaves the box (the next key is a decision, not a
    letter of the name); after a filter checkbox is ticked, the keys still decide."""
    from relabel.store import ReviewStore

    _, _, db = review_set
    page.get_by_role("tab", name="Relabel").click()
    one_at_a_time(page)
    name_box(page).fill("gina")
    name_box(page).press("Enter")
    item = page.locator("#review-item")
    item.get_by_text("Rank").first.wait_for()
    skipped = shown_path(page)
    page.keyboard.press("s")   # skip: the next row shows
    page.wait_for_function(f"() => {SHOWN_JS} !== {skipped!r}")
    page.locator("#review-statuses").get_by_label("skipped").check()   # the focus is on the checkbox now
    # A new pass that takes skipped rows starts at the row just skipped: wait for it before the next key.
    page.wait_for_function(f"() => {SHOWN_JS} === {skipped!r}")
    item.get_by_text("Status skipped").wait_for()
    page.keyboard.press("s")
    for _ in range(100):
        skips = [row for row in ReviewStore(db).history() if row["reviewer"] == "gina"]
        if len(skips) == 2:
            break
        page.wait_for_timeout(100)
    assert [row["kind"] for row in skips] == ["skip", "skip"]
    assert name_box(page).input_value() == "gina"


def test_relabel_a_second_look_pass_ends_and_says_so(page, review_set):
    """Under 'kept' the rows stay kept after a keep: the queue says the pass is done instead of wrapping."""
    from relabel.store import KEEP, NewDecision, ReviewStore

    _, _, db = review_set
    ReviewStore(db).record(NewDecision("imgs/img03.png", "ivan", KEEP, 0))
    start_reviewing_kept_rows(page, "hana")
    item, progress = page.locator("#review-item"), page.locator("#review-progress")
    for _ in range(len(ReviewStore(db).current())):   # at most every decided row, each kept once
        on_screen = shown_path(page)
        if not on_screen:
            break
        page.locator("#review-keep").click()
        page.wait_for_function(f"() => {SHOWN_JS} !== {on_screen!r}")   # the next view arrived
    item.get_by_text("This pass is done").wait_for()
    progress.get_by_text("left under these filters 0").wait_for()


def test_relabel_deciding_before_starting_says_so_in_plain_words(page):
    page.get_by_role("tab", name="Relabel").click()
    one_at_a_time(page)
    page.locator("#review-keep").click()
    toast = page.get_by_text("Type your name and press Start reviewing first")
    toast.first.wait_for()
    assert "**" not in toast.first.inner_text()


def test_relabel_a_reviewer_name_is_shown_as_text_never_as_a_link(page, review_set):
    """A name in Markdown link syntax reaches other reviewers as the characters it is made of."""
    from relabel.store import KEEP, NewDecision, ReviewStore

    _, _, db = review_set
    ReviewStore(db).record(NewDecision("imgs/img05.png", "[click](http://x)", KEEP, 0))
    start_reviewing_kept_rows(page, "lee")
    item = page.locator("#review-item")
    for _ in range(6):   # skip on to img05 (a skip leaves a decided row's status as it is)
        if shown_path(page) == "imgs/img05.png":
            break
        on_screen = shown_path(page)
        page.keyboard.press("s")
        page.wait_for_function(f"() => {SHOWN_JS} !== {on_screen!r}")
    assert shown_path(page) == "imgs/img05.png"
    assert "[click](http://x)=0" in item.inner_text()
    assert item.locator("a").count() == 0


# The grid's page token and its crops' paths, as the browser has them.
PAGE_JS = "(document.querySelector('#review-grid .review-page') || {dataset: {}}).dataset.page || ''"


def grid_paths(page) -> list[str]:
    return page.locator("#review-grid .review-tile").evaluate_all("tiles => tiles.map(t => t.dataset.path)")


def flipped_tiles(page) -> list[int]:
    return page.locator("#review-grid .review-tile").evaluate_all(
        "tiles => tiles.flatMap((t, i) => t.classList.contains('flipped') ? [i] : [])")


def start_in_grid(page, reviewer: str) -> str:
    """Open the Relabel tab, start as `reviewer` in the grid (the default view); returns the page's token."""
    page.get_by_role("tab", name="Relabel").click()
    name_box(page).fill(reviewer)
    page.locator("#review-start").click()
    page.wait_for_function(f"() => {PAGE_JS} !== ''")
    return page.evaluate(f"() => {PAGE_JS}")


def decisions_by(db, reviewer: str) -> dict[str, str]:
    from relabel.store import ReviewStore

    return {path: d.kind for path, ds in ReviewStore(db).current().items() for d in ds if d.reviewer == reviewer}


def settled_joins(app_server, page) -> int:
    """Gradio events the server has been sent so far, once no more arrive for a moment."""
    joins = app_server.server_log().count("POST /gradio_api/queue/join")
    while True:
        page.wait_for_timeout(700)
        now = app_server.server_log().count("POST /gradio_api/queue/join")
        if now == joins:
            return joins
        joins = now


def test_relabel_grid_toggles_by_click_and_key_in_the_browser_and_accepts_exactly_the_page(page, app_server,
                                                                                          review_set):
    """A click or a crop's key toggles its label without a call to the server; Enter records every crop of
    the page (flip where toggled, keep elsewhere) under the reviewer's name, and nothing else; Z takes the
    page back."""
    _, _, db = review_set
    token = start_in_grid(page, "gwen")
    paths = grid_paths(page)
    assert 2 <= len(paths) <= 24 and not decisions_by(db, "gwen")
    joins_before = settled_joins(app_server, page)   # the start's chained events (statistics) done
    tiles = page.locator("#review-grid .review-tile")
    tiles.nth(0).click()
    page.keyboard.press("2")
    page.keyboard.press("2")                    # toggled back
    page.keyboard.press("1")                    # tile 0 back to keep
    tiles.nth(0).click()                        # and flipped again
    page.keyboard.press("2")
    assert flipped_tiles(page) == [0, 1]
    assert tiles.nth(0).locator(".review-flip").inner_text().startswith("flip to ")
    assert tiles.nth(2).locator(".review-flip").is_hidden()
    page.wait_for_timeout(500)
    assert app_server.server_log().count("POST /gradio_api/queue/join") == joins_before   # no round trip
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => {PAGE_JS} !== {token!r}")
    page.locator("#review-last").get_by_text(f"Recorded: a page of {len(paths)}").wait_for()
    assert decisions_by(db, "gwen") == {path: "flip" if i < 2 else "keep" for i, path in enumerate(paths)}

    page.keyboard.press("z")
    page.locator("#review-last").get_by_text(f"Undone: a page of {len(paths)}").wait_for()
    assert decisions_by(db, "gwen") == {}
    # the page again, as it came (waited for: Gradio redraws the grid a moment after the line above it)
    page.wait_for_function("(want) => { const got = [...document.querySelectorAll('#review-grid .review-tile')]"
                           ".map((t) => t.dataset.path); return got.length === want.length && "
                           "got.every((path, i) => path === want[i]); }", arg=paths)
    assert flipped_tiles(page) == []


def test_relabel_accept_button_records_the_page_and_a_second_enter_records_nothing_more(page, review_set):
    from relabel.store import ReviewStore

    _, _, db = review_set
    start_in_grid(page, "hugo")
    paths = grid_paths(page)
    page.locator("#review-grid .review-tile").nth(len(paths) - 1).click()
    before = len(ReviewStore(db).history())
    page.locator("#review-accept").click()
    page.keyboard.press("Enter")    # at once: the page is still on screen, or the next one (pass done) came
    page.locator("#review-last").get_by_text(f"Recorded: a page of {len(paths)}").wait_for()
    page.wait_for_timeout(1500)
    assert len(ReviewStore(db).history()) == before + len(paths)
    assert decisions_by(db, "hugo") == {path: "flip" if i == len(paths) - 1 else "keep"
                                        for i, path in enumerate(paths)}
    page.keyboard.press("z")        # leave the rows as they were for the tests after this one
    page.locator("#review-last").get_by_text("Undone: a page of").wait_for()


def test_relabel_enter_on_a_button_reached_by_tab_is_that_buttons_and_a_clicked_one_gives_its_focus_back(
        page, review_set):
    """Enter presses the focused button, as everywhere (a crop toggles, Undo undoes); after a mouse click,
    Enter sends the page again, not the button clicked last."""
    _, _, db = review_set
    token = start_in_grid(page, "iris")
    paths = grid_paths(page)
    tiles = page.locator("#review-grid .review-tile")
    tiles.nth(1).focus()                    # as Tab leaves it
    page.keyboard.press("Enter")            # toggles that crop; sends nothing
    assert flipped_tiles(page) == [1]
    page.wait_for_timeout(500)
    assert decisions_by(db, "iris") == {} and page.evaluate(f"() => {PAGE_JS}") == token
    tiles.nth(0).click()                    # the mouse: the crop toggles and gives its focus back
    assert flipped_tiles(page) == [0, 1]
    assert page.evaluate("() => document.activeElement.closest('.review-tile') === null")
    page.keyboard.press("Enter")            # so Enter sends the page
    page.locator("#review-last").get_by_text(f"Recorded: a page of {len(paths)}").wait_for()
    assert decisions_by(db, "iris") == {path: "flip" if i < 2 else "keep" for i, path in enumerate(paths)}
    page.wait_for_function(f"() => {PAGE_JS} !== {token!r}")
    page.locator("#review-undo").focus()
    page.keyboard.press("Enter")            # Undo's, not Accept's: the page comes back, nothing recorded
    page.locator("#review-last").get_by_text(f"Undone: a page of {len(paths)}").wait_for()
    page.wait_for_timeout(500)
    assert decisions_by(db, "iris") == {}


# Whether a click near the top of crop `t` reaches a crop, rather than Gradio's progress overlay, which lies over
# the top of the grid (80 px) while an event that redraws it runs.
CLICK_REACHES_JS = ("(t) => { const r = t.getBoundingClientRect(); const hit = document.elementFromPoint("
                    "r.x + r.width / 2, r.y + 10); return Boolean(hit && hit.closest('.review-tile')); }")


def test_relabel_grid_a_sent_page_takes_no_toggles_and_clicks_reach_the_crops_while_gradio_redraws(
        page, app_server, review_set):
    """While the page's answer is on its way (held here), Gradio's progress overlay lies over the grid: a click
    still reaches the crops, so the next page takes one the moment it shows; the page already sent takes no
    toggle, by click or key, so none is shown that would vanish with it, and what was sent is what is recorded."""
    _, _, db = review_set
    start_in_grid(page, "ines")
    paths = grid_paths(page)
    settled_joins(app_server, page)   # the start's chained events done: only the answer is held below
    held = []

    def hold(route):   # answered below, once the sent page has been tried
        held.append(route)

    page.route("**/gradio_api/queue/join*", hold)
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelector('#review-grid .review-page[data-sent]') && "
                           "!document.querySelector('#review-grid [data-testid=status-tracker]')"
                           ".classList.contains('hide')")
    tile = page.locator("#review-grid .review-tile").nth(1)
    assert tile.evaluate(CLICK_REACHES_JS)
    tile.click(position={"x": 20, "y": 10})
    page.keyboard.press("3")
    assert flipped_tiles(page) == []
    assert len(held) == 1
    held[0].continue_()
    page.unroute("**/gradio_api/queue/join*", hold)
    page.locator("#review-last").get_by_text(f"Recorded: a page of {len(paths)}").wait_for()
    assert decisions_by(db, "ines") == {path: "keep" for path in paths}
    page.keyboard.press("z")          # the page again, taking toggles at once
    page.locator("#review-last").get_by_text(f"Undone: a page of {len(paths)}").wait_for()
    page.wait_for_function("() => document.querySelector('#review-grid .review-page:not([data-sent])')")
    tile.click(position={"x": 20, "y": 10})
    assert flipped_tiles(page) == [1]


def test_relabel_grid_a_page_a_filter_is_replacing_takes_no_toggles(page, app_server, review_set):
    """From a filter's change until the page it asks for is drawn (held here), the page on screen takes no
    toggle, which would vanish with it; the page drawn then takes them at once. Undo and the view hold the page
    the same way."""
    _, _, db = review_set
    start_in_grid(page, "jack")
    settled_joins(app_server, page)
    held = []

    def hold(route):   # answered below, once the page on screen has been tried
        held.append(route)

    page.route("**/gradio_api/queue/join*", hold)
    page.locator("#review-statuses").get_by_label("skipped").check()
    page.wait_for_function("() => document.querySelector('#review-grid .review-page[data-sent]')")
    page.keyboard.press("2")
    page.locator("#review-grid .review-tile").nth(0).click(position={"x": 20, "y": 10})
    assert flipped_tiles(page) == []
    assert len(held) == 1
    held[0].continue_()
    page.unroute("**/gradio_api/queue/join*", hold)
    page.wait_for_function("() => document.querySelector('#review-grid .review-page:not([data-sent])') && "
                           "document.querySelector('#review-grid [data-testid=status-tracker]')"
                           ".classList.contains('hide')")
    page.keyboard.press("2")
    assert flipped_tiles(page) == [1]
    assert decisions_by(db, "jack") == {}


def test_relabel_question_mark_shows_and_hides_the_keys_except_in_a_text_box(page):
    page.get_by_role("tab", name="Relabel").click()
    panel = page.locator("#review-help-panel")
    assert panel.is_hidden()
    page.keyboard.press("?")
    panel.wait_for()
    assert "toggle crops 1-8" in panel.inner_text() and "Enter" in panel.inner_text()
    page.keyboard.press("?")
    panel.wait_for(state="hidden")
    page.locator("#review-help-toggle").click()
    panel.wait_for()
    page.keyboard.press("Escape")
    panel.wait_for(state="hidden")
    name_box(page).press_sequentially("a?b")
    assert panel.is_hidden() and name_box(page).input_value() == "a?b"


def test_relabel_history_undoes_a_chosen_decision(page, review_set):
    _, _, db = review_set
    page.get_by_role("tab", name="Relabel").click()
    one_at_a_time(page)
    name_box(page).fill("olga")
    page.locator("#review-start").click()
    page.wait_for_function(f"() => {SHOWN_JS} !== ''")
    for _ in range(2):
        on_screen = shown_path(page)
        page.keyboard.press("k")
        page.wait_for_function(f"() => {SHOWN_JS} !== {on_screen!r}")
    kept = decisions_by(db, "olga")
    assert list(kept.values()) == ["keep", "keep"]
    first = next(iter(kept))
    page.locator("#review-history-panel").get_by_text("Your last decisions").click()
    choices = page.locator("#review-history label:has(input[type=radio])")
    choices.nth(1).wait_for()
    assert first.rsplit("/", 1)[-1] in choices.nth(1).inner_text()   # newest first: the first decision second
    choices.nth(1).click()
    page.locator("#review-history-undo").click()
    page.locator("#review-last").get_by_text("Undone: kept " + first.rsplit("/", 1)[-1]).wait_for()
    assert list(decisions_by(db, "olga")) == list(kept)[1:]
    choices.nth(1).wait_for(state="detached")   # only the standing one is listed


def test_relabel_statistics_show_kappa_and_open_the_disputed_rows(page, review_set):
    from relabel.store import FLIP, KEEP, NewDecision, ReviewStore

    _, _, db = review_set
    store = ReviewStore(db)
    store.record(NewDecision("imgs/img02.png", "pia", KEEP, 1))
    store.record(NewDecision("imgs/img02.png", "quin", FLIP, 1))
    store.record(NewDecision("imgs/img04.png", "pia", KEEP, 1))
    store.record(NewDecision("imgs/img04.png", "quin", KEEP, 1))
    page.get_by_role("tab", name="Relabel").click()
    name_box(page).fill("rita")
    page.locator("#review-start").click()
    page.wait_for_function(f"() => {SHOWN_JS} !== ''")
    page.locator("#review-stats-panel").get_by_text("Reviewers and agreement").click()
    stats = page.locator("#review-stats")
    stats.get_by_text("Cohen's kappa").wait_for()
    # pia 1, 1 and quin 0, 1: agreement 1/2, chance 1/2: kappa 0; they differ on img02
    row = stats.locator("tr", has_text="pia · quin")
    assert [cell.inner_text() for cell in row.locator("td").all()] == ["pia · quin", "2", "1", "0.00", "img02.png"]
    assert "per minute" in stats.inner_text().lower()
    page.locator("#review-disputed").click()
    page.locator("#review-item").get_by_text("Status disputed").wait_for()
    assert "imgs/img02.png" in page.locator("#review-item").inner_text()
    assert page.locator("#review-statuses input:checked").evaluate_all("boxes => boxes.length") == 1


def test_relabel_export_button_writes_the_corrected_manifest_and_says_where(page, review_set):
    from tests.relabel_fixtures import read_csv

    _, _, db = review_set
    out = db.parent / "corrected.csv"
    page.get_by_role("tab", name="Relabel").click()
    page.locator("#review-export-panel").get_by_text("Export the corrected manifest").click()
    page.locator("#review-export").click()
    said = page.locator("#review-export-result")
    said.get_by_text("Wrote").wait_for()
    rows = read_csv(out)
    assert f"Wrote {len(rows)} of 6 rows" in said.inner_text() and str(out) in said.inner_text()
    assert (db.parent / "corrected.held_out.csv").is_file()
