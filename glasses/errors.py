"""The one root of the errors this project raises for a person to read: a bad photo, model file, manifest,
decisions file or review database, or a training run that cannot start.

A command's `main()` catches GlassesError and exits with its message; the library code under it raises and
never exits, so the same functions serve the CLIs, the app and the tests. Each subclass also has a built-in
base (ValueError, RuntimeError), so callers catching those catch it too.
"""
from __future__ import annotations

from pathlib import Path


class GlassesError(Exception):
    """`reason` says what is wrong, in words for the person who supplied the input; `path` is the file (or
    the thing) concerned where there is one, and then `str(err)` is "path: reason"."""

    def __init__(self, reason: str, path: Path | str | None = None):
        super().__init__(reason if path is None else f"{path}: {reason}")
        self.reason = reason
        self.path = path
