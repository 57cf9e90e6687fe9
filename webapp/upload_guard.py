"""Every file a Gradio endpoint of this app receives must be one a visitor uploaded to it: checked in one place.

Gradio's own check (that a file sits in its upload folder) runs only for payloads tagged
`{"meta": {"_type": "gradio.FileData"}}`: an untagged `{"path": "/any/server/file"}`, one with empty or
foreign `meta`, or a bare string reaches the handler untouched (with `preprocess=False`, straight to code that
opens it), and its refusal names the server path. `GuardedBlocks` checks the raw input of every event before
Gradio sees it, for every component whose data model carries files (gr.Image, gr.File, and any added later):

- None or an empty list (nothing uploaded, or cleared) passes;
- otherwise the value must validate as the component's data model, and every file reference in it (a dict with
  a `path` or `url`) must name a regular file inside Gradio's upload folder, after symlinks are resolved; a
  single file's value must hold one (a value that may hold files besides other things, such as a multimodal
  text box's text, may hold none).

Anything else is refused with one message, the same whatever was sent and whether or not that file exists,
so that a caller learns nothing about the server's files.
"""
from __future__ import annotations

import json
import os
import stat
from functools import cache
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.data_classes import FileData
from gradio.utils import get_upload_folder

REFUSED = ("refused: send files to this app by uploading them first (gradio_client's handle_file does); "
           "a file that was not uploaded here, or has expired, is not read")


class GuardedBlocks(gr.Blocks):
    """gr.Blocks whose every event checks its file inputs (check_file_input) before Gradio preprocesses them."""

    async def preprocess_data(self, block_fn, inputs, state, explicit_call=False):
        for block, value in zip(block_fn.inputs, inputs):
            check_file_input(block, value)
        return await super().preprocess_data(block_fn, inputs, state, explicit_call)


def check_file_input(block: Any, value: Any) -> None:
    """Raise gr.Error(REFUSED) unless `value`, sent for component `block`, is empty or references uploads only."""
    model = getattr(block, "data_model", None)
    if value is None or value == [] or getattr(block, "stateful", False) or model is None or not _carries_files(model):
        return
    try:
        model.model_validate(value)
    except Exception:  # noqa: BLE001 - pydantic's reasons quote the payload back; the caller gets REFUSED
        raise _refused() from None
    references = _references(value)
    if isinstance(model, type) and issubclass(model, FileData) and not references:
        raise _refused()   # a single file's value that names no file (`{}`, `{"meta": ...}`)
    if not all(_is_upload(ref) for ref in references):
        raise _refused()


def _refused() -> gr.Error:
    return gr.Error(REFUSED, print_exception=False)


@cache
def _carries_files(model: type) -> bool:
    """Whether the component's data model is, or holds, Gradio's FileData (its JSON schema names it)."""
    return "FileData" in json.dumps(model.model_json_schema())


def _references(value: Any) -> list[dict]:
    """Every dict in `value` that points at a file (has a `path` or `url` key), however deeply nested."""
    if isinstance(value, dict):
        own = [value] if ("path" in value or "url" in value) else []
        return own + [ref for v in value.values() if isinstance(v, (dict, list)) for ref in _references(v)]
    if isinstance(value, list):
        return [ref for v in value for ref in _references(v)]
    return []


def _is_upload(reference: dict) -> bool:
    """A local path to a regular file inside the upload folder, symlinks resolved; a URL (Gradio would fetch
    it) or base64 data never is. The reference's `url` plays no part: Gradio reads an input from its path."""
    path = reference.get("path")
    if not isinstance(path, str) or not path or "\x00" in path or "://" in path or path.startswith("data:"):
        return False
    try:   # UnicodeError: a lone surrogate (valid JSON, "\ud800") that no file system name can hold
        uploads = Path(os.path.realpath(get_upload_folder()))
        resolved = Path(os.path.realpath(path))
        if not resolved.is_relative_to(uploads) or resolved == uploads:
            return False
        return stat.S_ISREG(os.stat(resolved).st_mode)
    except (OSError, ValueError, UnicodeError):
        return False
