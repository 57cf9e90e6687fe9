"""docs/prediction.schema.json: it accepts what Prediction.to_dict() gives, and refuses objects off the contract."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from glasses.prediction import SCHEMA, FaceResult, Prediction

jsonschema = pytest.importorskip("jsonschema")

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "docs" / "prediction.schema.json"


@pytest.fixture(scope="module")
def validator():
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


FACES = (FaceResult((112, 90, 248, 225), 0.9449, 0.9996, "glasses"),
         FaceResult((10, 12, 40, 44), 0.8, 0.01, "no_glasses"))


def test_the_schema_names_the_version_the_code_writes(validator):
    assert validator.schema["properties"]["schema"]["const"] == SCHEMA
    assert validator.schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize("prediction", [
    Prediction("photo.jpg", (320, 243), FACES),
    Prediction("empty.png", (64, 64)),                          # no face found
    Prediction.failed("notes.jpg", "not an image"),             # unreadable
    Prediction("odd\x1bname.jpg", (5, 5), FACES[:1]),           # written escaped
], ids=["faces", "no-face", "error", "escaped-name"])
def test_what_to_dict_gives_is_valid(validator, prediction):
    data = json.loads(json.dumps(prediction.to_dict()))
    assert list(validator.iter_errors(data)) == []


def test_every_example_in_the_schema_is_valid(validator):
    assert validator.schema["examples"]
    for example in validator.schema["examples"]:
        assert list(validator.iter_errors(example)) == []


@pytest.mark.parametrize("change", [
    lambda o: o.update(extra=1),                                  # additionalProperties: false
    lambda o: o["faces"][0].update(extra=1),
    lambda o: o.pop("error"),                                     # every field is required
    lambda o: o.update(schema="glasses.prediction.v2"),
    lambda o: o["faces"][0].update(label="maybe"),
    lambda o: o["faces"][0].update(box=[112.5, 90, 248, 225]),    # boxes are whole pixels
    lambda o: o["faces"][0].update(box=[112, 90, 248]),
    lambda o: o["faces"][0].update(glasses_prob=1.2),
    lambda o: o.update(width=None),                               # null only for an unreadable image
    lambda o: o.update(error="not an image"),                     # an error has no size and no faces
    lambda o: o.update(width=None, height=None, error="not an image"),
], ids=["extra", "face-extra", "no-error-field", "version", "label", "float-box", "short-box", "prob", "null-width",
        "error-with-size", "error-with-faces"])
def test_objects_off_the_contract_are_refused(validator, change):
    data = Prediction("photo.jpg", (320, 243), FACES).to_dict()
    broken = copy.deepcopy(data)
    change(broken)
    assert list(validator.iter_errors(broken)), broken


def test_the_rest_routes_model_takes_the_same_objects_and_fields(validator):
    """webapp/rest_models.py, which the app's OpenAPI document shows, describes the same contract."""
    from webapp.rest_models import PredictionModel

    for prediction in (Prediction("photo.jpg", (320, 243), FACES), Prediction("empty.png", (5, 5)),
                       Prediction.failed("notes.jpg", "not an image")):
        obj = prediction.to_dict()
        assert PredictionModel.model_validate(obj).model_dump(by_alias=True) == obj
    rest_schema = PredictionModel.model_json_schema(by_alias=True)
    assert list(rest_schema["properties"]) == list(validator.schema["properties"])
    face = rest_schema["$defs"]["FaceModel"]["properties"]
    assert list(face) == list(validator.schema["$defs"]["face"]["properties"])
