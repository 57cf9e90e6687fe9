"""glasses/config.py: the built-in defaults and limits, the GLASSES_* variables that change them, and what the
CLI and app.py say when one is malformed."""
from __future__ import annotations

import dataclasses
import importlib
import os
import subprocess
import sys

import pytest

from glasses import cli
from glasses.config import DEFAULTS, VARIABLES, ConfigError, load_config
from tests.conftest import REPO


def test_without_variables_the_built_in_values_hold():
    config = load_config({})
    assert config == DEFAULTS
    assert (config.min_face_size, config.max_side) == (40, 2048)
    assert (config.max_pixels, config.web_max_pixels) == (100_000_000, 50_000_000)
    assert (config.max_upload_bytes, config.max_zip_images, config.max_zip_unpacked_bytes) == (50 << 20, 1000, 1 << 30)
    assert config.batch_time_budget_s == 300


def test_every_setting_has_one_variable_of_its_own():
    assert sorted(v.field for v in VARIABLES) == sorted(f.name for f in dataclasses.fields(DEFAULTS))
    assert len({v.name for v in VARIABLES}) == len(VARIABLES)
    assert all(v.name.startswith("GLASSES_") for v in VARIABLES)


def test_each_variable_overrides_its_setting_in_its_unit():
    config = load_config({"GLASSES_MIN_FACE_SIZE": "24", "GLASSES_MAX_SIDE": "4096", "GLASSES_MAX_PIXELS": "1_000",
                          "GLASSES_WEB_MAX_PIXELS": " 20000000 ", "GLASSES_MAX_UPLOAD_MB": "10",
                          "GLASSES_MAX_ZIP_IMAGES": "5", "GLASSES_MAX_ZIP_UNPACKED_GB": "2",
                          "GLASSES_BATCH_TIME_BUDGET_S": "2.5", "GLASSES_UNRELATED": "x"})
    assert dataclasses.asdict(config) == {
        "min_face_size": 24, "max_side": 4096, "max_pixels": 1000, "web_max_pixels": 20_000_000,
        "max_upload_bytes": 10 * 1024 ** 2, "max_zip_images": 5, "max_zip_unpacked_bytes": 2 * 1024 ** 3,
        "batch_time_budget_s": 2.5}


def test_a_variable_set_to_nothing_counts_as_unset():
    assert load_config({"GLASSES_MAX_SIDE": "", "GLASSES_MAX_UPLOAD_MB": "  "}) == DEFAULTS


@pytest.mark.parametrize("variable, value, reason", [
    ("GLASSES_MAX_UPLOAD_MB", "fifty", "must be a whole number of megabytes, at least 1"),
    ("GLASSES_MAX_UPLOAD_MB", "0", "must be a whole number of megabytes, at least 1"),
    ("GLASSES_MAX_UPLOAD_MB", "2.5", "must be a whole number of megabytes, at least 1"),
    ("GLASSES_MIN_FACE_SIZE", "8", "must be a whole number of pixels, at least 12"),
    ("GLASSES_MAX_SIDE", "100", "must be a whole number of pixels, at least 128"),
    ("GLASSES_WEB_MAX_PIXELS", "-5", "must be a whole number of pixels, at least 1"),
    ("GLASSES_MAX_ZIP_UNPACKED_GB", "1GB", "must be a whole number of gigabytes, at least 1"),
    ("GLASSES_BATCH_TIME_BUDGET_S", "nan", "must be a number of seconds, at least 1"),
    ("GLASSES_BATCH_TIME_BUDGET_S", "inf", "must be a number of seconds, at least 1"),
    ("GLASSES_BATCH_TIME_BUDGET_S", "0", "must be a number of seconds, at least 1"),
])
def test_a_malformed_or_out_of_range_value_is_an_error_naming_the_variable_and_value(variable, value, reason):
    with pytest.raises(ConfigError) as caught:
        load_config({variable: value})
    assert str(caught.value) == f"environment variable {variable}={value!r}: {reason}"
    assert (caught.value.variable, caught.value.value, caught.value.reason) == (variable, value, reason)
    assert isinstance(caught.value, ValueError)


def test_load_config_reads_the_process_environment_by_default(monkeypatch):
    monkeypatch.setenv("GLASSES_MAX_ZIP_IMAGES", "7")
    assert load_config().max_zip_images == 7


def test_the_cli_flags_default_to_the_environments_values(monkeypatch):
    monkeypatch.setenv("GLASSES_MIN_FACE_SIZE", "60")
    monkeypatch.setenv("GLASSES_MAX_PIXELS", "1234")
    args = cli.build_parser().parse_args(["predict", "x.jpg"])
    assert (args.min_face_size, args.max_side, args.max_pixels) == (60, 2048, 1234)
    args = cli.build_parser().parse_args(["predict", "x.jpg", "--min-face-size", "30"])
    assert args.min_face_size == 30   # a flag still wins


def test_the_cli_reports_a_bad_variable_as_a_usage_error(monkeypatch, capsys):
    monkeypatch.setenv("GLASSES_MAX_SIDE", "huge")
    with pytest.raises(SystemExit) as caught:
        cli.main(["predict", "x.jpg"])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert "error: environment variable GLASSES_MAX_SIDE='huge': must be a whole number of pixels" in err


def test_the_apps_limits_come_from_the_environment(monkeypatch):
    import webapp.limits

    monkeypatch.setenv("GLASSES_MAX_UPLOAD_MB", "3")
    monkeypatch.setenv("GLASSES_WEB_MAX_PIXELS", "1000000")
    try:
        limits = importlib.reload(webapp.limits)
        assert (limits.MAX_UPLOAD_BYTES, limits.WEB_MAX_PIXELS) == (3 * 1024 ** 2, 1_000_000)
        assert limits.too_large(4 * 1024 ** 2) == "too large: 4.0 MB (limit 3 MB)"
    finally:
        monkeypatch.delenv("GLASSES_MAX_UPLOAD_MB")
        monkeypatch.delenv("GLASSES_WEB_MAX_PIXELS")
        importlib.reload(webapp.limits)
    assert webapp.limits.MAX_UPLOAD_BYTES == DEFAULTS.max_upload_bytes


@pytest.mark.parametrize("command", [["-m", "glasses", "predict", "x.jpg"], ["app.py"]])
def test_a_bad_variable_stops_the_cli_and_the_app_with_a_message_not_a_traceback(command):
    env = dict(os.environ, GLASSES_MAX_UPLOAD_MB="lots")
    done = subprocess.run([sys.executable, *command], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 2
    assert "error: environment variable GLASSES_MAX_UPLOAD_MB='lots': must be a whole number of megabytes" \
        in done.stderr
    assert "Traceback" not in done.stderr
