"""The REST route's answers as pydantic models, so that the app's OpenAPI document (/openapi.json, /docs)
describes them. They mirror glasses.Prediction.to_dict() (docs/prediction.schema.json); tests check the three
agree."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from glasses.prediction import SCHEMA


class FaceModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    face: int = Field(ge=0, description="0 for the largest face, 1 for the next, and so on")
    box: list[int] = Field(min_length=4, max_length=4,
                           description="x1, y1, x2, y2 in pixels of the image as a viewer shows it")
    face_prob: float = Field(ge=0, le=1, description="the detector's confidence that this is a face")
    glasses_prob: float = Field(ge=0, le=1, description="the classifier's probability of glasses on the eyes")
    label: Literal["glasses", "no_glasses"] = Field(description="glasses where glasses_prob reaches the threshold")


class PredictionModel(BaseModel):
    """One image's result: its faces, largest first, or the reason it could not be read."""

    model_config = ConfigDict(extra="forbid")

    schema_: Literal[SCHEMA] = Field(alias="schema", description="the version of this contract")
    name: str = Field(description="the image as its caller named it (here: the upload's file name)")
    width: int | None = Field(description="as a viewer shows it (EXIF orientation applied); null if unread")
    height: int | None
    faces: list[FaceModel] = Field(description="largest first; empty when no face was found")
    error: str | None = Field(description="why the image could not be read; null when it was")


class ErrorModel(BaseModel):
    """A request the route could not take (no form, no file, too large, wrong method)."""

    error: str
