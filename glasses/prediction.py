"""The result of one image, as every surface gives it: the CLI's json/jsonl (and, flattened, its csv and table),
the REST route, the app's Classify JSON and Batch table. docs/prediction.schema.json describes `to_dict()`.

    {"schema": "glasses.prediction.v1", "name": "photo.jpg", "width": 640, "height": 480,
     "faces": [{"face": 0, "box": [x1, y1, x2, y2], "face_prob": 0.998, "glasses_prob": 0.97, "label": "glasses"}],
     "error": null}

The words are the model's (glasses/labels.py): the shipped model's labels are `glasses` / `no_glasses` and its
probability is `glasses_prob`; a model of another attribute says, e.g., `hat` / `no_hat` and `hat_prob`.

SCHEMA names the version: adding an optional field keeps it, changing or removing one makes a new one.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field, replace

from PIL import Image

from glasses.images import ScaledImage
from glasses.labels import GLASSES_LABELS, LabelNames

SCHEMA = "glasses.prediction.v1"
GLASSES, NO_GLASSES = GLASSES_LABELS.pair
# The labels of a flattened row that holds no face: the image has none, or could not be read.
NO_FACE, ERROR = "no_face", "error"


def columns(labels: LabelNames = GLASSES_LABELS) -> tuple[str, ...]:
    """The flattened rows' columns (CSV, table) for a model with these label names."""
    return ("name", "width", "height", "face", "x1", "y1", "x2", "y2", "face_prob", labels.prob_key, "label",
            "error")


COLUMNS = columns()   # the shipped glasses model's


def label_for(glasses_prob: float, threshold: float) -> str:
    """The shipped model's label at `threshold`; LabelNames.label_for is any model's."""
    return GLASSES_LABELS.label_for(glasses_prob, threshold)


@dataclass(frozen=True)
class FaceResult:
    """One face: its box (x1, y1, x2, y2) in pixels of the image as a viewer shows it, largest face first.

    `prob` is the model's probability of its positive label (`labels.positive`: glasses for the shipped model),
    `label` one of `labels`' two names."""

    box: tuple[int, int, int, int]
    face_prob: float
    prob: float
    label: str
    labels: LabelNames = GLASSES_LABELS

    @property
    def glasses_prob(self) -> float:
        """`prob`, by the name the shipped glasses model gives it."""
        return self.prob

    @property
    def positive(self) -> bool:
        """Whether the face has the model's attribute (for the shipped model: wears glasses)."""
        return self.label == self.labels.positive

    def with_threshold(self, threshold: float) -> "FaceResult":
        """The same face labelled at another threshold, without running the model again."""
        return replace(self, label=self.labels.label_for(self.prob, threshold))

    def to_dict(self) -> dict:
        return {"box": list(self.box), "face_prob": self.face_prob, self.labels.prob_key: self.prob,
                "label": self.label}


@dataclass(frozen=True)
class Prediction:
    """One image: `name` as its caller named it (a path as given, an upload's file name), `size` (width,
    height) as a viewer shows it (EXIF orientation applied), its faces largest first (none found: empty), or,
    for an image that could not be read, `error` (the reason a person reads) and no size. `labels`: the label
    names of the model that made it, which name the probability's key and column.

    `photo`, where the caller asked for it (Predictor.predict_image's `show_side`), is the copy of the image the
    prediction read, to draw the faces on (`overlay`); it is no part of the result's value or its JSON."""

    name: str
    size: tuple[int, int] | None
    faces: tuple[FaceResult, ...] = ()
    error: str | None = None
    photo: ScaledImage | None = field(default=None, compare=False, repr=False)
    labels: LabelNames = GLASSES_LABELS

    @classmethod
    def failed(cls, name: str, reason: str, labels: LabelNames = GLASSES_LABELS) -> "Prediction":
        return cls(name, None, (), reason, labels=labels)

    @property
    def columns(self) -> tuple[str, ...]:
        """The keys of each of `rows()`."""
        return columns(self.labels)

    def with_threshold(self, threshold: float) -> "Prediction":
        """The same faces labelled at another threshold, without running the model again."""
        return replace(self, faces=tuple(face.with_threshold(threshold) for face in self.faces))

    def to_dict(self) -> dict:
        """The JSON object of docs/prediction.schema.json. Names and reasons are `printable`, as in every format."""
        width, height = self.size or (None, None)
        return {"schema": SCHEMA, "name": printable(self.name), "width": width, "height": height,
                "faces": [{"face": i, **face.to_dict()} for i, face in enumerate(self.faces)],
                "error": None if self.error is None else printable(self.error)}

    def rows(self) -> list[dict]:
        """The flattening the CSV and tables show: one row of COLUMNS per face, or one row labelled NO_FACE (no
        face found) or ERROR (not read; `error` says why) with the face columns empty."""
        base = {column: None for column in self.columns} | {"name": printable(self.name)}
        if self.size:
            base |= {"width": self.size[0], "height": self.size[1]}
        if self.error is not None:
            return [base | {"label": ERROR, "error": printable(self.error)}]
        if not self.faces:
            return [base | {"label": NO_FACE}]
        return [base | {"face": i, "x1": f.box[0], "y1": f.box[1], "x2": f.box[2], "y2": f.box[3],
                        "face_prob": f.face_prob, self.labels.prob_key: f.prob, "label": f.label}
                for i, f in enumerate(self.faces)]

    def overlay(self) -> Image.Image:
        """`photo` with each face's box, label and confidence drawn at its place there."""
        from glasses.overlay import draw_overlay

        if self.photo is None:
            raise ValueError(f"{self.name}: no photo kept to draw on; predict it with show_side")
        shown = [replace(face, box=tuple(round(v) for v in self.photo.from_full(face.box))) for face in self.faces]
        return draw_overlay(self.photo.image, shown)


def printable(text: str) -> str:
    """`text` as one line of plain text that every format can write and that shows in a terminal as it is named.

    The bytes of a file name that is not UTF-8 (which Python hands over surrogate-escaped, and no UTF-8 stream
    can write) are shown as `\\xff`. Control characters (a terminal acts on ESC sequences, a newline or CR
    splits a table or CSV row), line and paragraph separators, and format characters (U+202E and the other
    bidirectional controls reorder the text around them, U+200B and the other invisible ones hide or fake
    text) are shown the same way, as Python's backslashreplace writes code points: `\\x1b`, `\\x0a` (a newline),
    `\\u202e`. The joiners U+200C and U+200D are kept: they are part of ordinary text (Persian, Indic scripts,
    emoji sequences), as is all other printable text. Escaping in the result itself keeps table, CSV, JSON,
    JSONL, the REST route and the app's tables identical."""
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    if text.isprintable():  # false wherever a character below is escaped (and for a few that are kept)
        return text
    return "".join(_escaped(ch) for ch in text)


_HIDDEN = {"Cc", "Cf", "Zl", "Zp"}
_JOINERS = {"\u200c", "\u200d"}


def _escaped(ch: str) -> str:
    if unicodedata.category(ch) in _HIDDEN and ch not in _JOINERS:
        code = ord(ch)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
    return ch
