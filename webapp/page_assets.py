"""The page's own CSS (mount_gradio_app's `css=`, webapp/server.py), for what Gradio's components do not size
by themselves on a phone's narrow screen.

- Model tab: a plot keeps a width its axis labels can be read at (640 px) and scrolls sideways, instead of
  shrinking a 1100-pixel figure to the screen's 360.
"""
from __future__ import annotations

PAGE_CSS = """
@media (max-width: 720px) {
  .model-plot .image-container { overflow-x: auto; }
  .model-plot .image-container > button { justify-content: flex-start; width: max-content; min-width: 100%; }
  .model-plot .image-container img { min-width: 640px; max-width: none; }
}
"""
