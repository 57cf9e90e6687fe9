"""glasses.Predictor end to end: photos read at no more than they are worth, boxes in full-size pixels, faces
classified in bounded batches."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import glasses
import glasses.predictor
from glasses import load_image
from glasses.crop import crop_face
from tests.conftest import DATA, needs_data

ORIENTATION = 0x0112
PORTRAIT = DATA / "celeba_hq" / "images" / "1000.jpg"


@pytest.fixture
def reads(monkeypatch):
    """Every ScaledImage the Predictor reads."""
    calls = []
    original = glasses.predictor.load_image_scaled

    def spy(source, at_least, max_pixels):
        calls.append(original(source, at_least, max_pixels))
        return calls[-1]

    monkeypatch.setattr(glasses.predictor, "load_image_scaled", spy)
    return calls


@needs_data
@pytest.mark.parametrize("orientation", [None, 6])
def test_a_large_jpeg_is_read_at_half_scale_with_boxes_in_full_pixels(predictor, tmp_path, reads, orientation):
    """4000x4000: the detector's largest canvas is 2000 px (a 40 px face at 20 px), so libjpeg decodes it at
    half scale, once (its face is large there); the boxes are the 256-pixel photo's, scaled, in pixels of the
    full image, turned upright when EXIF says so."""
    face = predictor.predict(PORTRAIT)[0]
    reads.clear()
    big = load_image(PORTRAIT).resize((4000, 4000), Image.BICUBIC)
    jpeg = tmp_path / "big.jpg"
    if orientation is None:
        big.save(jpeg, quality=90)
    else:
        exif = Image.Exif()
        exif[ORIENTATION] = orientation
        big.transpose(Image.Transpose.ROTATE_90).save(jpeg, quality=90, exif=exif.tobytes())
    scaled, faces = predictor.predict_scaled(jpeg)
    assert [(r.image.size, r.full_size) for r in reads] == [((2000, 2000), (4000, 4000))]
    assert len(faces) == 1
    scale = 4000 / 256
    assert np.abs(np.subtract(faces[0].box, np.multiply(face.box, scale))).max() <= 0.05 * 4000


@needs_data
@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_a_small_face_in_a_large_photo_is_cut_from_a_finer_read(predictor, tmp_path, reads, fmt, monkeypatch):
    """6000x4000 is held at 3000x2000 (the 2048 px canvas needs no more); a face of about 100 px spans fewer
    pixels than the classifier's input there, so its crop comes from the photo read again at the scale it
    needs, as sharp as one cut from the full photo."""
    photo = Image.new("RGB", (6000, 4000), (110, 120, 115))
    photo.paste(load_image(PORTRAIT).resize((200, 200), Image.BICUBIC), (2900, 1900))
    saved = tmp_path / f"group.{fmt.lower()}"
    photo.save(saved, fmt, **({"quality": 95} if fmt == "JPEG" else {}))
    crops = []
    classify = predictor.classify
    monkeypatch.setattr(predictor, "classify", lambda batch: crops.extend(batch) or classify(batch))
    faces = predictor.predict(saved)

    assert len(faces) == 1 and len(reads) == 2
    first, finer = reads
    assert first.image.size == (3000, 2000) and finer.full_size == (6000, 4000)
    x1, y1, x2, y2 = faces[0].box
    crop_side = max(x2 - x1, y2 - y1) * (1 + predictor.crop_margin)
    assert crop_side * first.scale < predictor.input_size <= crop_side * finer.scale
    from_full = crop_face(load_image(saved), faces[0].box, predictor.input_size, predictor.crop_margin)
    assert np.abs(np.asarray(crops[0], float) - np.asarray(from_full, float)).mean() < 4


def test_a_strip_is_held_whole_so_the_detector_still_sees_it(predictor, reads):
    """5000x16: reduced to the 2048 px canvas it would be 6 px high, below what the detector looks at."""
    assert predictor.hold_side((5000, 16)) == 5000
    predictor.predict(Image.new("RGB", (5000, 16), (120, 90, 60)))
    assert reads[0].image.size == (5000, 16)


@needs_data
def test_a_portrait_is_read_at_half_size_once_and_shown_whole(reads):
    """A 256-pixel CelebA-HQ portrait: the detector's 128-pixel view is all it needs, and its face spans the
    shipped classifier's input (96 px) at half size, so libjpeg decodes it at 1/2, once. A caller that shows
    the photo (show_side) gets it whole, read again for that, and exactly the same faces."""
    predictor = glasses.Predictor()
    _, faces = predictor.predict_scaled(PORTRAIT)
    assert [(r.image.size, r.full_size) for r in reads] == [((128, 128), (256, 256))]
    reads.clear()
    shown, shown_faces = predictor.predict_scaled(PORTRAIT, show_side=1024)
    assert [r.image.size for r in reads] == [(128, 128), (256, 256)] and shown.image.size == (256, 256)
    assert len(faces) == 1 and shown_faces == faces


def test_show_hold_keeps_what_the_detector_needs_and_what_is_shown(predictor):
    hold = predictor.show_hold(1024)
    assert hold((256, 256)) == 256                     # the whole photo: it has fewer pixels than shown
    assert hold((1500, 1000)) == 1024                  # the detector alone would hold 750
    assert hold((6000, 4000)) == predictor.hold_side((6000, 4000)) == 2048
    assert predictor.hold_side((256, 256)) == 128


def test_faces_are_classified_in_bounded_batches_with_the_same_answers(predictor, monkeypatch):
    rng = np.random.default_rng(0)
    crops = [Image.fromarray(rng.integers(0, 256, (96, 96, 3), dtype=np.uint8)) for _ in range(150)]
    alone = np.concatenate([predictor.classify([crop]) for crop in crops[:5]])
    batches = []
    classifier = predictor.classifier

    def spy(batch):
        batches.append(len(batch))
        return classifier(batch)

    monkeypatch.setattr(predictor, "classifier", spy)
    probs = predictor.classify(crops)
    assert probs.shape == (150,) and max(batches) <= glasses.predictor.CLASSIFY_BATCH
    assert np.allclose(probs[:5], alone, atol=1e-5)


def test_predict_image_names_the_image_and_gives_its_size_as_shown(predictor, tmp_path):
    path = tmp_path / "wide.png"
    Image.new("RGB", (60, 40), (90, 120, 150)).save(path)
    prediction = predictor.predict_image(path)
    assert (prediction.name, prediction.size, prediction.error, prediction.photo) == (str(path), (60, 40), None, None)
    assert prediction.faces == tuple(predictor.predict(path))
    assert predictor.predict_image(path.read_bytes(), "upload.png").name == "upload.png"
    assert predictor.predict_image(path, show_side=1024).photo.image.size == (60, 40)
    with pytest.raises(glasses.ImageError, match="^upload.png: not an image$"):
        predictor.predict_image(b"no photo", "upload.png")


def test_predict_many_yields_one_prediction_per_item_in_order_as_it_goes(predictor, tmp_path):
    good = tmp_path / "good.png"
    Image.new("RGB", (40, 40), (200, 30, 30)).save(good)
    read = []

    def lazily():
        read.append("member")
        return good.read_bytes()

    def broken():
        raise RuntimeError("disk on fire")

    items = [good, ("member.png", lazily), glasses.ImageError("locked", "permission denied"),
             tmp_path / "missing.jpg", ("broken.png", broken), str(good)]
    results = predictor.predict_many(iter(items))
    first = next(results)
    assert first.name == str(good) and first.size == (40, 40) and not read   # the member is read in its turn
    rest = list(results)
    assert [(p.name, p.error) for p in rest] == [
        ("member.png", None), ("locked", "permission denied"), (str(tmp_path / "missing.jpg"), "file not found"),
        ("broken.png", "unexpected error: RuntimeError: disk on fire"), (str(good), None)]
    assert read == ["member"] and rest[0].size == (40, 40)
    quiet = predictor.predict_many([("broken.png", broken)], unexpected=lambda name, err: "it failed")
    assert next(quiet).error == "it failed"
