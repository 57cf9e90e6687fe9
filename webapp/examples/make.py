"""Make the Classify tab's example photos (webapp/examples/*.jpg) from scikit-image's public-domain and CC0
sample images, deterministically: the same scikit-image and Pillow give the same files.

    python webapp/examples/make.py          # writes the photos, then checks each with the shipped model

The photos and how each is made (docs/examples.md credits them):

- no_glasses.jpg: scikit-image's `astronaut`, NASA's photo of Eileen Collins (public domain), as it is.
- glasses.jpg: the same photo with eyeglass frames drawn on at her eyes.
- sunglasses.jpg: the same photo with sunglasses (dark lenses in thick frames) drawn on at her eyes.
- group.jpg: three faces pasted side by side on one canvas: `camera` (Lav Varshney's photographer, CC0), the
  astronaut with drawn glasses, mirrored, and the astronaut as she is.
- no_face.jpg: scikit-image's `coffee`, a cup of coffee (Rachel Michetti, CC0).

The eyes are found, not placed by hand: the shipped detector finds the face (glasses.Predictor), and BlazeFace's
key points on a view of that face give the centre of each eye. Every frame, lens and bridge is then scaled to
the distance between the eyes. `check()` runs the shipped model on each photo and fails unless it gives the
answer EXPECTED says, so that a drawing the model does not take for glasses is never shipped as one.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from glasses import Predictor  # noqa: E402
from glasses.blazeface import BlazeFace  # noqa: E402
from glasses.prediction import GLASSES, NO_GLASSES  # noqa: E402

FOLDER = Path(__file__).resolve().parent
JPEG_QUALITY = 85
# What the shipped model must answer for each photo: the label of each face, largest first (none: no face).
EXPECTED = {
    "glasses.jpg": [GLASSES],
    "no_glasses.jpg": [NO_GLASSES],
    "sunglasses.jpg": [GLASSES],
    "group.jpg": None,   # checked by its faces' count and labels regardless of their order: GROUP_LABELS
    "no_face.jpg": [],
}
GROUP_LABELS = sorted([NO_GLASSES, GLASSES, NO_GLASSES])


@dataclass(frozen=True)
class Eyes:
    """The centres of the two eyes in pixels of a photo: `right` is the person's right eye (the left one in
    the photo)."""

    right: tuple[float, float]
    left: tuple[float, float]

    @property
    def span(self) -> float:
        return float(np.hypot(self.left[0] - self.right[0], self.left[1] - self.right[1]))

    @property
    def angle(self) -> float:
        """The tilt of the line between the eyes, in radians."""
        return float(np.arctan2(self.left[1] - self.right[1], self.left[0] - self.right[0]))


def find_eyes(photo: Image.Image, predictor: Predictor) -> Eyes:
    """The eyes of the largest face the shipped detector finds: a square view of that face, at BlazeFace's own
    128 pixels, gives its key points."""
    faces = predictor.predict(photo)
    if not faces:
        raise SystemExit("make.py: no face found where the example needs one")
    x1, y1, x2, y2 = faces[0].box
    side = 1.6 * max(x2 - x1, y2 - y1)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    left, top = cx - side / 2, cy - side / 2
    network = BlazeFace(threads=1)
    view = photo.convert("RGB").crop((round(left), round(top), round(left + side), round(top + side)))
    found = network(np.asarray(view.resize((network.side, network.side), Image.BILINEAR)))
    if not found:
        raise SystemExit("make.py: BlazeFace finds no key points on the face")
    points = found[0].keypoints * (side / network.side) + np.array([left, top])
    return Eyes(tuple(points[0]), tuple(points[1]))


def draw_glasses(photo: Image.Image, eyes: Eyes, dark: bool) -> Image.Image:
    """`photo` with glasses drawn over `eyes`: round-cornered lenses in thick dark frames, a bridge and the
    start of each temple, all scaled to the distance between the eyes. `dark`: sunglasses' near-black lenses;
    otherwise clear lenses with a faint grey tint."""
    span = eyes.span
    # Drawn level on a canvas four times the photo's size (smooth edges), then turned to the eyes' tilt.
    scale = 4
    width, height = photo.size
    layer = Image.new("RGBA", (width * scale, height * scale), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    lens_w, lens_h = 0.78 * span, 0.56 * span
    frame = max(2, round(0.09 * span * scale))
    tint = (12, 14, 16, 235) if dark else (200, 205, 210, 45)
    colour = (18, 16, 14, 255)
    centre = ((eyes.right[0] + eyes.left[0]) / 2, (eyes.right[1] + eyes.left[1]) / 2)
    for side in (-1, 1):
        x = centre[0] + side * span / 2
        y = centre[1] + 0.04 * span
        box = [scale * (x - lens_w / 2), scale * (y - lens_h / 2), scale * (x + lens_w / 2), scale * (y + lens_h / 2)]
        draw.rounded_rectangle(box, radius=round(0.22 * span * scale), fill=tint, outline=colour, width=frame)
        outer = box[2] if side > 0 else box[0]
        temple_end = outer + side * scale * 0.32 * span
        draw.line([(outer, box[1] + frame), (temple_end, box[1] + frame)], fill=colour, width=frame)
    bridge_y = scale * (centre[1] - 0.06 * span)
    draw.line([(scale * (centre[0] - span / 2 + lens_w / 2), bridge_y),
               (scale * (centre[0] + span / 2 - lens_w / 2), bridge_y)], fill=colour, width=frame)
    layer = layer.rotate(-np.degrees(eyes.angle), resample=Image.BICUBIC,
                         center=(scale * centre[0], scale * centre[1]))
    layer = layer.resize(photo.size, Image.LANCZOS)
    return Image.alpha_composite(photo.convert("RGBA"), layer).convert("RGB")


def head_and_shoulders(photo: Image.Image, predictor: Predictor, height: int) -> Image.Image:
    """A crop around the largest face, 2.2 face-heights tall and 0.8 as wide as tall, scaled to `height`."""
    x1, y1, x2, y2 = predictor.predict(photo)[0].box
    side = max(x2 - x1, y2 - y1)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2 + 0.25 * side
    tall = 2.2 * side
    wide = 0.8 * tall
    crop = photo.convert("RGB").crop((round(cx - wide / 2), round(cy - tall / 2), round(cx + wide / 2),
                                      round(cy + tall / 2)))
    return crop.resize((round(height * 0.8), height), Image.LANCZOS)


def group(faces: list[Image.Image], gap: int = 16) -> Image.Image:
    """The crops side by side on a light grey canvas, `gap` pixels apart and around."""
    height = max(face.height for face in faces)
    width = sum(face.width for face in faces) + gap * (len(faces) + 1)
    canvas = Image.new("RGB", (width, height + 2 * gap), (225, 228, 232))
    x = gap
    for face in faces:
        canvas.paste(face, (x, gap))
        x += face.width + gap
    return canvas


def make(predictor: Predictor) -> dict[str, Image.Image]:
    import skimage.data

    astronaut = Image.fromarray(skimage.data.astronaut())
    camera = Image.fromarray(skimage.data.camera()).convert("RGB")
    eyes = find_eyes(astronaut, predictor)
    with_glasses = draw_glasses(astronaut, eyes, dark=False)
    photos = {
        "no_glasses.jpg": astronaut,
        "glasses.jpg": with_glasses,
        "sunglasses.jpg": draw_glasses(astronaut, eyes, dark=True),
        "no_face.jpg": Image.fromarray(skimage.data.coffee()),
    }
    mirrored = with_glasses.transpose(Image.FLIP_LEFT_RIGHT)
    photos["group.jpg"] = group([head_and_shoulders(p, predictor, 300) for p in (camera, mirrored, astronaut)])
    return photos


def check(predictor: Predictor, folder: Path = FOLDER) -> list[str]:
    """Each written photo's answer from the shipped model, as lines; SystemExit naming a photo whose answer is
    not the one EXPECTED says."""
    lines, wrong = [], []
    for name, expected in EXPECTED.items():
        faces = predictor.predict(folder / name)
        labels = [face.label for face in faces]
        ok = sorted(labels) == GROUP_LABELS if expected is None else labels == expected
        lines.append(f"{name}: {', '.join(f'{f.label} {f.glasses_prob:.4f}' for f in faces) or 'no face'}")
        if not ok:
            wrong.append(name)
    if wrong:
        raise SystemExit("make.py: the shipped model does not answer as expected for " + ", ".join(wrong)
                         + "\n" + "\n".join(lines))
    return lines


def main() -> None:
    predictor = Predictor(threads=1)
    for name, photo in make(predictor).items():
        photo.save(FOLDER / name, quality=JPEG_QUALITY, optimize=True)
    print("\n".join(check(predictor)))


if __name__ == "__main__":
    main()
