"""The REST route's answers as pydantic models, so that the app's OpenAPI document (/openapi.json, /docs)
describes them. They mirror glasses.Prediction.to_dict() (docs/prediction.schema.json); tests check the three
agree. A face's probability and labels are named after the served model's labels (glasses/labels.py), so the
models are made for those names: `prediction_model(labels)`; PredictionModel is the shipped glasses model's."""
from __future__ import annotations

from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from glasses.labels import GLASSES_LABELS, LabelNames
from glasses.prediction import SCHEMA


def face_model(labels: LabelNames) -> type[BaseModel]:
    """One face, its probability field `labels.prob_key` (glasses_prob) and its label one of `labels`."""
    word = labels.word(labels.positive)
    return create_model(
        "FaceModel", __config__=ConfigDict(extra="forbid"),
        face=(int, Field(ge=0, description="0 for the largest face, 1 for the next, and so on")),
        box=(list[int], Field(min_length=4, max_length=4,
                              description="x1, y1, x2, y2 in pixels of the image as a viewer shows it")),
        face_prob=(float, Field(ge=0, le=1, description="the detector's confidence that this is a face")),
        **{labels.prob_key: (float, Field(ge=0, le=1, description=f"the classifier's probability of {word}"))},
        label=(Literal[labels.pair], Field(description=f"{labels.positive} where {labels.prob_key} reaches the "
                                                       "threshold")))


@cache
def prediction_model(labels: LabelNames = GLASSES_LABELS) -> type[BaseModel]:
    """One image's result: its faces, largest first, or the reason it could not be read."""
    return create_model(
        "PredictionModel", __config__=ConfigDict(extra="forbid"),
        __doc__="One image's result: its faces, largest first, or the reason it could not be read.",
        schema_=(Literal[SCHEMA], Field(alias="schema", description="the version of this contract")),
        name=(str, Field(description="the image as its caller named it (here: the upload's file name)")),
        width=(int | None, Field(description="as a viewer shows it (EXIF orientation applied); null if unread")),
        height=(int | None, ...),
        faces=(list[face_model(labels)], Field(description="largest first; empty when no face was found")),
        error=(str | None, Field(description="why the image could not be read; null when it was")))


PredictionModel = prediction_model()


class ErrorModel(BaseModel):
    """A request the route could not take (no form, no file, too large, wrong method)."""

    error: str
