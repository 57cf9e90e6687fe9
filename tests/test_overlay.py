"""glasses.draw_overlay on synthetic photos with hand-made FaceResults (no model needed)."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from glasses import FaceResult, draw_overlay

GLASSES_GREEN, NO_GLASSES_ORANGE = (0, 200, 120), (255, 170, 0)
GRAY = (128, 128, 128)


def face(box, glasses_prob=0.9, label="glasses"):
    return FaceResult(box=box, face_prob=0.99, prob=glasses_prob, label=label)


@pytest.mark.parametrize("size", [(64, 64), (2000, 1500)])
def test_overlay_draws_boxes_on_a_copy(size):
    width, height = size
    photo = Image.new("RGB", size, GRAY)
    before = photo.tobytes()
    boxes = [(width // 4, height // 2, width // 2, height - 2),            # glasses
             (width // 2 + 2, height // 2, width - 4, height * 3 // 4)]    # no glasses
    faces = [face(boxes[0]), face(boxes[1], glasses_prob=0.1, label="no_glasses")]

    out = draw_overlay(photo, faces)

    assert out.mode == "RGB" and out.size == size
    assert out is not photo and photo.tobytes() == before
    pixels = np.asarray(out)
    for (x1, y1, x2, y2), colour in zip(boxes, (GLASSES_GREEN, NO_GLASSES_ORANGE)):
        middle_y, middle_x = (y1 + y2) // 2, (x1 + x2) // 2
        for x, y in ((x1, middle_y), (x2, middle_y), (middle_x, y2)):   # left, right and bottom edges
            assert tuple(pixels[y, x]) == colour, (x, y)
        # Caption background just above the box (on a 64 px photo the second caption, moved left to fit,
        # covers part of the first: any label's colour there).
        assert tuple(pixels[y1 - 1, x1 + 1]) in (colour, NO_GLASSES_ORANGE)
        assert tuple(pixels[middle_y, middle_x]) == GRAY    # the inside of the box is left alone
    assert tuple(pixels[1, 1]) == GRAY


def test_no_faces_gives_an_unchanged_copy():
    photo = Image.new("RGB", (64, 48), GRAY)
    out = draw_overlay(photo, [])
    assert out is not photo and out.tobytes() == photo.tobytes()


def test_non_rgb_photo_gives_rgb():
    photo = Image.new("L", (64, 64), 128)
    out = draw_overlay(photo, [face((10, 20, 40, 50))])
    assert out.mode == "RGB" and out.size == (64, 64)
    assert photo.mode == "L"


@pytest.mark.parametrize("size", [(64, 64), (2000, 1500)])
def test_face_at_top_edge_puts_caption_below(size):
    width, height = size
    x1, y1, x2, y2 = width // 8, 0, width // 2, height // 2
    photo = Image.new("RGB", size, GRAY)
    pixels = np.asarray(draw_overlay(photo, [face((x1, y1, x2, y2))]))
    middle_y = (y1 + y2) // 2
    assert tuple(pixels[0, (x1 + x2) // 2]) == GLASSES_GREEN   # top edge drawn at row 0
    assert tuple(pixels[middle_y, x1]) == GLASSES_GREEN
    assert tuple(pixels[y2 + 1, x1 + 1]) == GLASSES_GREEN       # caption background below the box


def test_unknown_label_is_drawn_white():
    pixels = np.asarray(draw_overlay(Image.new("RGB", (64, 64), GRAY), [face((20, 30, 50, 60), label="other")]))
    assert tuple(pixels[45, 20]) == (255, 255, 255)


def test_a_caption_wider_than_the_room_right_of_the_box_stays_inside_the_photo():
    """On a 256 px photo a reviewer's caption is wider than the space right of the face: the band moves left
    and ends inside the photo instead of being cut off at its edge."""
    from glasses.overlay import draw_captioned_box

    out = Image.new("RGB", (256, 256), GRAY)
    draw_captioned_box(out, (150, 100, 230, 200), "given: no glasses (0), model 100% glasses", GLASSES_GREEN)
    band_row = np.asarray(out)[90]   # inside the caption band above the box
    green = np.flatnonzero((band_row == GLASSES_GREEN).all(axis=1))
    assert green.min() < 150              # moved left of the box, as far as it had to go:
    assert green.max() == 255             # it ends at the photo's last column
