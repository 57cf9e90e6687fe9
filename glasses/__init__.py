"""glasses: for every face in a photo, whether the person wears glasses, with a box and a confidence."""
from glasses.images import ImageError, load_image
from glasses.overlay import draw_overlay
from glasses.predictor import FaceResult, Predictor

__all__ = ["FaceResult", "ImageError", "Predictor", "draw_overlay", "load_image"]
__version__ = "0.1.0"
