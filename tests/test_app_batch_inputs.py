"""What the Batch tab makes of dropped files and zips: which members are read, and how bad ones are reported."""
from __future__ import annotations

import io
import zipfile

from PIL import Image

from glasses import ImageError
from webapp import batch_inputs
from webapp.batch_inputs import batch_items


def gif() -> bytes:
    out = io.BytesIO()
    Image.new("L", (8, 8), 50).save(out, "GIF")
    return out.getvalue()


def make_zip(path, members: dict[str, bytes]) -> str:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return str(path)


def read_all(paths) -> dict[str, object]:
    """name -> what read() gives, or the ImageError's reason."""
    result = {}
    for item in batch_items(paths):
        try:
            result[item.name] = item.read()
        except ImageError as err:
            result[item.name] = err.reason
    return result


def test_zip_is_walked_like_a_folder(tmp_path):
    image = gif()
    archive = make_zip(tmp_path / "photos.zip", {
        "a/one.gif": image, "subject01.glasses": image,          # an image by its name, and by its header
        "notes.txt": b"not a photo", "a/": b"", ".hidden.gif": image, "__MACOSX/a/._one.gif": image})
    assert read_all([archive]) == {"photos.zip/a/one.gif": image, "photos.zip/subject01.glasses": image}


def test_files_dropped_alone_are_always_taken(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a photo")
    assert read_all([str(notes)]) == {"notes.txt": str(notes)}


def test_unopenable_zip_is_one_error_row(tmp_path):
    archive = make_zip(tmp_path / "photos.zip", {"one.gif": gif(), "two.gif": gif()})
    data = open(archive, "rb").read().replace(b"PK\x01\x02", b"XX\x01\x02")   # spoil the central directory
    open(archive, "wb").write(data)
    [(name, reason)] = read_all([archive]).items()
    assert name == "photos.zip" and reason.startswith("corrupt zip: ")


def test_corrupt_member_is_its_own_error_row(tmp_path):
    archive = make_zip(tmp_path / "photos.zip", {"one.gif": gif(), "two.gif": gif()})
    data = bytearray(open(archive, "rb").read())
    data[:4] = b"XXXX"                                  # the local header of the first member
    open(archive, "wb").write(bytes(data))
    result = read_all([archive])
    assert result["photos.zip/one.gif"].startswith("corrupt zip member: ")
    assert result["photos.zip/two.gif"] == gif()


def test_member_over_the_upload_limit_is_refused_unread(tmp_path):
    big = tmp_path / "photos.zip"
    with zipfile.ZipFile(big, "w", zipfile.ZIP_DEFLATED) as archive:   # 51 MB of zeros packs to a few kB
        archive.writestr("big.png", bytes(51 * 1024 * 1024))
    assert read_all([str(big)]) == {"photos.zip/big.png": "too large: 51.0 MB (limit 50 MB)"}


def test_zip_with_too_many_images_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(batch_inputs, "MAX_ZIP_IMAGES", 2)
    archive = make_zip(tmp_path / "photos.zip", {f"{i}.gif": gif() for i in range(3)})
    result = read_all([archive])
    assert list(result) == ["photos.zip/0.gif", "photos.zip/1.gif", "photos.zip"]
    assert result["photos.zip"] == "holds 3 images; only the first 2 were read (limit 2 images)"


def test_zip_that_unpacks_to_more_than_its_limit_is_read_only_up_to_it(tmp_path, monkeypatch):
    """A zip bomb of images under the member limit would otherwise hold the Batch queue for minutes."""
    monkeypatch.setattr(batch_inputs, "MAX_ZIP_UNPACKED_BYTES", 2 * len(gif()))
    archive = make_zip(tmp_path / "photos.zip", {f"{i}.gif": gif() for i in range(3)})
    result = read_all([archive])
    assert list(result) == ["photos.zip/0.gif", "photos.zip/1.gif", "photos.zip"]
    assert result["photos.zip"] == "holds 3 images; only the first 2 were read (limit 0 GB unpacked)"


def test_truncated_zip_is_a_corrupt_zip_not_an_image(tmp_path):
    archive = make_zip(tmp_path / "photos.zip", {"one.gif": gif(), "two.gif": gif()})
    data = open(archive, "rb").read()
    for name in ("photos.zip", "photos"):        # by its name, and by its header alone
        (tmp_path / name).write_bytes(data[:len(data) // 2])
        [(row, reason)] = read_all([str(tmp_path / name)]).items()
        assert row == name and reason.startswith("corrupt zip: ")


def test_no_member_is_passed_over_without_a_row(tmp_path):
    image = gif()
    inner = make_zip(tmp_path / "inner.zip", {"x.gif": image})
    archive = make_zip(tmp_path / "photos.zip", {"../up.gif": image, "/abs.gif": image,
                                                 "inner.zip": open(inner, "rb").read()})
    result = read_all([archive])
    assert result["photos.zip/../up.gif"] == image and result["photos.zip/abs.gif"] == image
    assert result["photos.zip/inner.zip"] == "a zip inside a zip is not opened; unzip it, or give it on its own"
    assert read_all([make_zip(tmp_path / "notes.zip", {"notes.txt": b"no photo"})]) == {
        "notes.zip": "no image in this zip"}


def test_encrypted_member_says_so_in_words(tmp_path):
    data = bytearray(open(make_zip(tmp_path / "photos.zip", {"secret.gif": gif()}), "rb").read())
    for header, flags_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):   # the member's two headers say encrypted
        data[data.index(header) + flags_at] |= 0x1
    (tmp_path / "photos.zip").write_bytes(bytes(data))
    assert read_all([str(tmp_path / "photos.zip")]) == {
        "photos.zip/secret.gif": "encrypted: unpacking it needs a password"}
