"""glasses: for every face in a photo, whether the person wears glasses, with a box and a confidence."""
from glasses.errors import GlassesError
from glasses.images import ImageError, load_image
from glasses.overlay import draw_overlay
from glasses.prediction import FaceResult, Prediction
from glasses.predictor import Predictor

__all__ = ["FaceResult", "GlassesError", "ImageError", "Prediction", "Predictor", "draw_overlay", "load_image"]
__version__ = "0.1.0"
