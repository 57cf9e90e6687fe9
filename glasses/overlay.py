"""Draw each face's box with its label and confidence onto a copy of the photo."""
from __future__ import annotations

from PIL import Image, ImageDraw, ImageFont

from glasses.prediction import FaceResult

# A face with the model's attribute (glasses, for the shipped model), one without, and one labelled neither way.
POSITIVE_COLOUR, NEGATIVE_COLOUR, OTHER_COLOUR = (0, 200, 120), (255, 170, 0), (255, 255, 255)


def draw_overlay(image: Image.Image, faces: list[FaceResult]) -> Image.Image:
    """Box and caption sizes follow the photo's size, so they stay readable on thumbnails and on 4K photos."""
    out = image.convert("RGB")
    for face in faces:
        colour = {face.labels.positive: POSITIVE_COLOUR, face.labels.negative: NEGATIVE_COLOUR}.get(face.label,
                                                                                                  OTHER_COLOUR)
        draw_captioned_box(out, face.box, caption(face), colour)
    return out


def caption(face: FaceResult) -> str:
    """A face's label in words and the model's confidence in it: "glasses 97%", "no glasses 88%"."""
    confidence = face.prob if face.positive else 1 - face.prob
    return f"{face.labels.word(face.label)} {confidence:.0%}"


def draw_captioned_box(out: Image.Image, box, caption: str, colour: tuple[int, int, int]) -> None:
    """Draw `box` (x1, y1, x2, y2) on `out` in place, `caption` on a filled band above it (below when no room).

    The band starts at the box's left edge, moved left as far as it must to end inside the photo; a caption
    wider than the photo gets a smaller font, down to the smallest that can be read, so it is never cut off
    on a small photo."""
    draw = ImageDraw.Draw(out)
    line = max(2, round(min(out.size) / 200))
    size = max(12, round(min(out.size) / 30))
    font = ImageFont.load_default(size=size)
    left, top, right, bottom = draw.textbbox((0, 0), caption, font=font)
    while right - left + 2 * line > out.width and size > _SMALLEST_FONT:
        size -= 1
        font = ImageFont.load_default(size=size)
        left, top, right, bottom = draw.textbbox((0, 0), caption, font=font)
    x1, y1, x2, y2 = box
    draw.rectangle((x1, y1, x2, y2), outline=colour, width=line)
    width, height = right - left + 2 * line, bottom - top + 2 * line
    label_left = max(0, min(x1, out.width - width))
    label_top = y1 - height if y1 - height >= 0 else y2
    draw.rectangle((label_left, label_top, label_left + width - 1, label_top + height), fill=colour)
    draw.text((label_left + line, label_top + line - top), caption, fill=(0, 0, 0), font=font)


_SMALLEST_FONT = 9   # pixels: below this Pillow's default font stops being legible
