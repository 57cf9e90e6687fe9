"""The two label names of a model: what it calls a face that has its attribute and one that has not.

The shipped model tells glasses (`glasses` / `no_glasses`, from CelebA's `Eyeglasses` column); a model trained
on another binary attribute (`python -m training.train --attribute Wearing_Hat`) records its own names in its
model file (`hat` / `no_hat`), and every surface (the CLI's rows, REST, the app) shows those. The probability a
face carries is the positive label's, named after it: `glasses_prob`, `hat_prob`.

Names are plain lowercase words (`[a-z][a-z0-9_]*`, at most 32 characters), because they become CSV column
names, JSON keys, file names and words in a web page; the attribute is a column name of letters, digits and _
(at most 64). A model file or manifest whose names are anything else is refused.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_ATTRIBUTE = "Eyeglasses"
NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,31}")          # matched whole (fullmatch): no newline after it
ATTRIBUTE_PATTERN = re.compile(r"[A-Za-z0-9_]{1,64}")
# Labels a row uses for an image without a face result, and the detector's column: a model's names never clash.
RESERVED = frozenset({"no_face", "error", "face"})
# CelebA columns whose plain lowercase form (`eyeglasses`, `no_male`) would read oddly.
_NAMED = {"Eyeglasses": ("glasses", "no_glasses"), "Male": ("male", "female"), "No_Beard": ("no_beard", "beard"),
          "Young": ("young", "not_young")}
_DROPPED_PREFIXES = ("wearing_",)


class LabelNameError(ValueError):
    """Label names that cannot be used; the message says which and why."""


@dataclass(frozen=True)
class LabelNames:
    """`positive` is the label of a face with the attribute (P >= threshold), `negative` of one without;
    `attribute` the data column the model was trained on (CelebA's name, e.g. `Eyeglasses`)."""

    positive: str = "glasses"
    negative: str = "no_glasses"
    attribute: str = DEFAULT_ATTRIBUTE

    def __post_init__(self):
        check_names(self.positive, self.negative)
        check_attribute(self.attribute)

    @property
    def prob_key(self) -> str:
        """The key (JSON) and column (CSV) of the positive label's probability: `glasses_prob`, `hat_prob`."""
        return f"{self.positive}_prob"

    @property
    def pair(self) -> tuple[str, str]:
        return self.positive, self.negative

    def label_for(self, prob: float, threshold: float) -> str:
        return self.positive if prob >= threshold else self.negative

    def word(self, label: str) -> str:
        """A label as a page writes it: `no_glasses` -> `no glasses`."""
        return label.replace("_", " ")

    @property
    def words(self) -> dict[int, str]:
        """The words of a manifest's labels 1 and 0: {1: "glasses", 0: "no glasses"}."""
        return {1: self.word(self.positive), 0: self.word(self.negative)}


def check_names(positive: str, negative: str) -> None:
    """Raise LabelNameError unless both are plain lowercase words, distinct, and not a reserved word."""
    for name in (positive, negative):
        if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
            raise LabelNameError(f"label name {name!r} is not a lowercase word of letters, digits and _ "
                                 "(at most 32, starting with a letter)")
        if name in RESERVED:
            raise LabelNameError(f"label name {name!r} is reserved (it is one of {', '.join(sorted(RESERVED))})")
    if positive == negative:
        raise LabelNameError(f"the two label names are both {positive!r}")


def check_attribute(attribute: str) -> None:
    """Raise LabelNameError unless `attribute` is a column name of letters, digits and _ (at most 64)."""
    if not isinstance(attribute, str) or not ATTRIBUTE_PATTERN.fullmatch(attribute):
        raise LabelNameError(f"attribute {attribute!r} is not a column name of letters, digits and _ (at most 64)")


GLASSES_LABELS = LabelNames()


def names_for(attribute: str) -> LabelNames:
    """The label names a model of `attribute` gets unless its trainer names them: `Eyeglasses` -> glasses /
    no_glasses, `Male` -> male / female, `Wearing_Hat` -> hat / no_hat, `Smiling` -> smiling / no_smiling,
    `5_o_Clock_Shadow` -> has_5_o_clock_shadow / no_5_o_clock_shadow (a name starts with a letter).
    Raises LabelNameError for an attribute that gives no usable word."""
    check_attribute(attribute)
    if attribute in _NAMED:
        return LabelNames(*_NAMED[attribute], attribute=attribute)
    word = attribute.lower()
    for prefix in _DROPPED_PREFIXES:
        if word.startswith(prefix) and len(word) > len(prefix):
            word = word[len(prefix):]
    word = word.strip("_")
    positive = word if word[:1].isalpha() else f"has_{word}"
    return LabelNames(positive, f"no_{word}", attribute=attribute)
