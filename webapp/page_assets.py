"""The page's own CSS (mount_gradio_app's `css=`, webapp/server.py), for what Gradio's components do not do by
themselves.

- Model tab, on a phone's narrow screen: a plot keeps a width its axis labels can be read at (640 px) and
  scrolls sideways, instead of shrinking a 1100-pixel figure to the screen's 360.
- Relabel grid: Gradio lays its progress overlay over the top of the grid while an event that redraws it runs,
  and keeps it there a moment after the next page is drawn. Clicks go through it to the crops (but for the
  button that dismisses an error), so that a crop clicked as soon as it shows is toggled. A page already sent
  takes no toggles (webapp.review_keys), so a click on it while it waits to be replaced changes nothing.
"""
from __future__ import annotations

PAGE_CSS = """
@media (max-width: 720px) {
  .model-plot .image-container { overflow-x: auto; }
  .model-plot .image-container > button { justify-content: flex-start; width: max-content; min-width: 100%; }
  .model-plot .image-container img { min-width: 640px; max-width: none; }
}
#review-grid [data-testid="status-tracker"] { pointer-events: none; }
#review-grid [data-testid="status-tracker"] .clear-status { pointer-events: auto; }
"""
