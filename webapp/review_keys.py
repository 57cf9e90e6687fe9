"""The Relabel tab's keyboard: the script the server adds to the page (HOTKEYS_JS) and the help overlay that
`?` shows and hides.

The keys work wherever the focus is except where typing goes (a text box, a select, an editable element): a
ticked checkbox or a clicked button keeps the focus and must not swallow them. Enter in the name box starts
the session and then leaves the box, so that the first decision key is not typed into the name. In the grid,
a crop's key or a click toggles its label in the browser alone (no server call) and Enter sends the page.

Enter on a focused button (one reached with Tab: a crop, Undo, Refresh) is that button's, as everywhere on
the web; a button clicked with the mouse gives its focus back, so that the next Enter still sends the page
rather than pressing the button clicked last.
"""
from __future__ import annotations

import html
import json

from webapp.review_grid import KEYS as GRID_KEYS

UNDO_KEY = "z"
HELP_KEY = "?"


def hotkeys_js(single_keys: dict[str, str]) -> str:
    """The page's key handler; `single_keys` maps a key of the one-at-a-time view to the id of its button."""
    return HOTKEYS_TEMPLATE % {"single": json.dumps(single_keys), "grid": json.dumps(GRID_KEYS),
                               "undo": json.dumps(UNDO_KEY)}


HOTKEYS_TEMPLATE = """() => {
  const single = %(single)s, gridKeys = %(grid)s, undoKey = %(undo)s;
  const typing = (el) => el && (el.isContentEditable || el.tagName === "TEXTAREA" || el.tagName === "SELECT" ||
    (el.tagName === "INPUT" && !["checkbox", "radio", "button", "submit", "reset", "range", "color", "file"]
      .includes((el.type || "text").toLowerCase())));
  const shown = (el) => Boolean(el && el.checkVisibility());
  const page = () => { const p = document.querySelector("#review-grid .review-page"); return shown(p) ? p : null; };
  // A page whose answer has been sent, or that an Undo, a filter or the view is replacing (data-sent), takes
  // no more toggles: a toggle shown on it would vanish with it. Gradio's redraw of the next page drops the
  // attribute; reviewGridSettled drops it where the event ends without one.
  const toggle = (tile) => {
    if (tile.closest(".review-page[data-sent]")) return;
    tile.setAttribute("aria-pressed", String(tile.classList.toggle("flipped")));
  };
  const helpPanel = () => document.getElementById("review-help-panel");
  window.reviewToggleHelp = () => { const panel = helpPanel(); if (panel) panel.hidden = !panel.hidden; };
  // What the Accept button sends: the page's token and the positions of the crops shown flipped. The page is
  // marked sent until the answer's event ends (reviewGridSettled, which frees it where no next page came).
  window.reviewGridAnswer = () => {
    const p = page();
    if (!p) return "";
    p.dataset.sent = "true";
    return JSON.stringify({page: p.dataset.page,
      flip: [...p.querySelectorAll(".review-tile.flipped")].map((tile) => Number(tile.dataset.index))});
  };
  window.reviewGridHold = () => { const p = page(); if (p) p.dataset.sent = "true"; };
  window.reviewGridSettled = () => document.querySelectorAll("#review-grid .review-page[data-sent]")
    .forEach((p) => delete p.dataset.sent);
  document.addEventListener("click", (event) => {
    const el = event.target instanceof Element ? event.target : event.target.parentElement;
    const button = el && el.closest("button");
    if (button && event.detail > 0 && shown(document.getElementById("review-start"))) {
      button.blur();   // clicked in the Relabel tab (its tab bar too), not pressed: Enter goes back to the page
    }
    const tile = el && el.closest("#review-grid .review-tile");
    if (tile) { toggle(tile); return; }
    if (el && el.closest("#review-help-toggle, #review-help-close")) window.reviewToggleHelp();
  });
  document.addEventListener("keydown", (event) => {
    const target = event.target;
    if (event.key === "Enter" && target && target.closest && target.closest("#review-reviewer")) {
      setTimeout(() => target.blur(), 0);
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat || typing(target)) return;
    if (event.key === "Enter" && target instanceof Element && target.closest("button, a[href], summary")) return;
    if (!shown(document.getElementById("review-start"))) return;   // another tab is open
    const click = (id) => {
      const button = document.getElementById(id);
      if (shown(button) && !button.disabled) { event.preventDefault(); button.click(); }
    };
    const key = event.key.toLowerCase();
    if (event.key === "?") { event.preventDefault(); window.reviewToggleHelp(); return; }
    if (event.key === "Escape") { const panel = helpPanel(); if (panel) panel.hidden = true; return; }
    if (key === undoKey) { click("review-undo"); return; }
    const grid = page();
    if (grid) {
      if (event.key === "Enter") { click("review-accept"); return; }
      const tile = gridKeys.includes(key) ? grid.querySelectorAll(".review-tile")[gridKeys.indexOf(key)] : null;
      if (tile) { event.preventDefault(); toggle(tile); }
      return;
    }
    if (single[key]) click(single[key]);
  });
}"""

# Handed to the Accept button's click (inputs: session, page, answer) as its `js`: the browser's answer replaces
# the hidden answer box's value; the two states are kept on the server whatever the browser sends for them.
ACCEPT_JS = ("(session, page, answer) => [session, page, "
             "window.reviewGridAnswer ? window.reviewGridAnswer() : answer]")
# Handed as `js` to the events that replace the grid's page (Undo, the filters, the view): the page on screen
# takes no more toggles from the moment it is asked for; the inputs go on as they are.
HOLD_JS = "(...inputs) => { if (window.reviewGridHold) window.reviewGridHold(); return inputs; }"
# Run in the browser once an event that holds the page (HOLD_JS, ACCEPT_JS) has ended, whatever its outcome (an
# error, a stale answer or nothing to undo leaves the page on screen, and its crops must take toggles again).
SETTLED_JS = "() => { if (window.reviewGridSettled) window.reviewGridSettled(); }"


def help_html(single_keys: list[tuple[str, str]]) -> str:
    """The overlay listing every key, hidden until `?` (or its button) shows it; `single_keys` are (key, what)."""
    rows = [(" ".join(GRID_KEYS[i:i + 8].upper()),
             f"toggle crops {i + 1}-{i + 8} of the grid (each row of keys, a row of crops); a click does the same")
            for i in range(0, len(GRID_KEYS), 8)]
    rows += [("Enter", "accept the page: every crop's label as shown (kept, or flipped where red) is recorded")]
    rows += [(key.upper(), what) for key, what in single_keys]
    rows += [(UNDO_KEY.upper(), "undo your last decision, or your last page"), (HELP_KEY, "show or hide this help"),
             ("Esc", "hide this help")]
    body = "".join(f"<tr><th><kbd>{html.escape(key)}</kbd></th><td>{html.escape(what)}</td></tr>" for key, what in rows)
    return ('<button type="button" id="review-help-toggle" class="review-help-toggle">Keys (?)</button>'
            '<div id="review-help-panel" class="review-help-panel" role="dialog" aria-label="Keys" hidden>'
            '<h3>Keys</h3><p>They work wherever the focus is, except inside a text box. In the grid (first three '
            'rows) and in the one-at-a-time view (the letters after Enter).</p>'
            f'<table>{body}</table><button type="button" id="review-help-close">Close</button></div>')


HELP_CSS = """
.review-help-toggle { padding: 2px 10px; border: 1px solid #9ca3af; border-radius: 4px; background: #f9fafb; }
.review-help-panel { position: fixed; top: 10%; left: 50%; transform: translateX(-50%); z-index: 1000;
  width: min(640px, 92vw); max-height: 80vh; overflow: auto; background: #fff; color: #111;
  border: 2px solid #374151; border-radius: 8px; padding: 16px 20px; box-shadow: 0 10px 40px rgba(0,0,0,.35); }
.review-help-panel[hidden] { display: none; }
.review-help-panel th { text-align: left; padding: 3px 12px 3px 0; white-space: nowrap; vertical-align: top; }
.review-help-panel kbd { border: 1px solid #6b7280; border-radius: 3px; padding: 0 4px; }
"""
