"""The rows every format is written from: file names and error reasons as one line of plain text."""
from __future__ import annotations

import os

import pytest

from glasses.report import error_row, face_rows


@pytest.mark.parametrize("name, written", [
    ("evil\u202egpj.exe", "evil\\u202egpj.exe"),             # right-to-left override: would show "exe.jpg"
    ("zero\u200bwidth.jpg", "zero\\u200bwidth.jpg"),
    ("a\x1b[2Jb.png", "a\\x1b[2Jb.png"),
    ("tab\there\rcr\x7fdel\x85nel.png", "tab\\x09here\\x0dcr\\x7fdel\\x85nel.png"),
    ("line\u2028para\u2029.png", "line\\u2028para\\u2029.png"),
    ("tag\U000e0041.png", "tag\\U000e0041.png"),              # an invisible tag character
    (os.fsdecode(b"bad\xff\x1b.png"), "bad\\xff\\x1b.png"),      # not UTF-8, and a control byte
])
def test_hidden_and_control_characters_in_names_are_escaped(name, written):
    assert face_rows(name, [])[0]["path"] == written
    assert error_row(name, "not an image")["path"] == written


@pytest.mark.parametrize("name", ["café.jpg", "照片.png", "😀 smile.jpg", "👩\u200d👩\u200d👧 family.jpg",
                                  "ن\u200cام.jpg", "plain name (1).png", "no\u00a0break.png"])
def test_printable_text_is_kept_as_it_is(name):
    assert face_rows(name, [])[0]["path"] == name


def test_error_reasons_are_escaped_too():
    row = error_row("x.png", "unexpected error: ValueError: first\nsecond\x1b[0m")
    assert row["error"] == "unexpected error: ValueError: first\\x0asecond\\x1b[0m"
