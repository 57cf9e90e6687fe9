"""An attacker names a file on the server instead of uploading one, to every Gradio endpoint that takes a file,
in every payload shape Gradio's API accepts: each is refused with one message that says nothing of the file.

Runs against a real `python app.py` (the session's app_server) through Gradio's own HTTP API, without
gradio_client (which would upload the file first).
"""
from __future__ import annotations

import json
import os
import shutil

import pytest

from tests.app_server import call_gradio
from tests.conftest import REPO
from webapp.upload_guard import REFUSED

# Files on the server: an image the app could read and draw (the README's screenshot), a text file, one that
# does not exist, a folder and a device.
SERVER_FILES = {
    "image": str(REPO / "docs" / "app-classify.png"),
    "text": str(REPO / "README.md"),
    "missing": str(REPO / "no-such-photo.png"),
    "folder": str(REPO / "docs"),
    "device": "/dev/zero",
}
TAG = {"_type": "gradio.FileData"}


def shapes(path: str) -> dict[str, object]:
    """The ways a payload can point at `path`."""
    return {
        "bare path": {"path": path},
        "empty meta": {"path": path, "meta": {}},
        "null meta": {"path": path, "meta": None},
        "foreign meta": {"path": path, "meta": {"_type": "other"}},
        "tagged": {"path": path, "meta": TAG},
        "tagged with url": {"path": path, "url": f"http://127.0.0.1/gradio_api/file={path}", "meta": TAG},
        "url only": {"url": f"file://{path}", "meta": TAG},
        "path as url": {"path": f"file://{path}", "meta": TAG},
        "string": path,
        "list": [{"path": path}],
        "nested": {"path": {"path": path}, "meta": TAG},
    }


CASES = [(what, shape) for what in SERVER_FILES for shape in shapes("x")]


def assert_refused(answer: tuple[str, str], path: str) -> None:
    event, payload = answer
    assert event == "error" and json.loads(payload)["error"] == REFUSED, payload
    assert path not in payload and os.path.basename(path) not in payload


@pytest.mark.parametrize("what, shape", CASES)
def test_classify_refuses_every_reference_to_a_server_file(app_server, what, shape):
    path = SERVER_FILES[what]
    assert_refused(call_gradio(app_server, "classify", [shapes(path)[shape], 0.5]), path)


@pytest.mark.parametrize("what, shape", CASES)
def test_batch_refuses_every_reference_to_a_server_file(app_server, what, shape):
    path = SERVER_FILES[what]
    payload = shapes(path)[shape]
    assert_refused(call_gradio(app_server, "batch", [payload if isinstance(payload, list) else [payload]]), path)


@pytest.mark.parametrize("payload", [{"path": SERVER_FILES["image"]}, SERVER_FILES["image"]])
def test_a_single_reference_where_batch_takes_a_list_is_refused_too(app_server, payload):
    assert_refused(call_gradio(app_server, "batch", [payload]), SERVER_FILES["image"])


def test_a_file_inside_the_upload_folder_reached_by_a_symlink_from_outside_is_refused(app_server, tmp_path):
    """A reference that spells a path inside Gradio's upload folder but resolves out of it."""
    from gradio.utils import get_upload_folder

    uploads = get_upload_folder()
    os.makedirs(uploads, exist_ok=True)
    link = os.path.join(uploads, f"glasses-test-link-{os.getpid()}.png")
    copy = os.path.join(uploads, f"glasses-test-copy-{os.getpid()}.png")
    os.symlink(SERVER_FILES["image"], link)
    shutil.copy(SERVER_FILES["image"], copy)
    try:
        assert_refused(call_gradio(app_server, "classify", [{"path": link, "meta": TAG}, 0.5]), SERVER_FILES["image"])
        event, _ = call_gradio(app_server, "classify", [{"path": copy, "meta": TAG}, 0.5])   # the same folder, a file
        assert event == "complete"
    finally:
        os.unlink(link)
        os.unlink(copy)


def test_an_upload_is_still_classified(app_server, tmp_path):
    """The guard lets real uploads through: the same photo, uploaded first, is classified."""
    from gradio_client import Client, handle_file

    client = Client(app_server.url, verbose=False)
    overlay, _, raw, *_ = client.predict(handle_file(SERVER_FILES["image"]), 0.5, api_name="/classify")
    assert raw["width"] > 0 and os.path.isfile(overlay)


SHAPES_FOR = {   # how each component's value names one file
    "Video": lambda ref: ref, "Model3D": lambda ref: ref,
    "UploadButton": lambda ref: ref, "Gallery": lambda ref: [{"image": ref, "caption": None}],
    "MultimodalTextbox": lambda ref: {"text": "hi", "files": [ref]},
}


def guarded_call(component: str):
    """An endpoint taking `component`, as a later tab might add it: a function that preprocesses its input
    as Gradio would for a call of that endpoint, raising gr.Error where the guard refuses."""
    import asyncio

    import gradio as gr

    from webapp.upload_guard import GuardedBlocks

    with GuardedBlocks() as demo:
        source = getattr(gr, component)()
        source.change(lambda value: value, source, gr.JSON(), api_name="later")
    [block_fn] = list(demo.fns.values())
    return lambda value: asyncio.run(demo.preprocess_data(block_fn, [value], None))


@pytest.mark.parametrize("component", list(SHAPES_FOR))
def test_an_endpoint_added_later_is_guarded_without_code_of_its_own(component, tmp_path):
    """Any component whose data carries files is checked by GuardedBlocks itself, so a new tab's endpoint is
    safe the day it is added: a server file is refused in its shapes, an upload goes through."""
    import gradio as gr
    from gradio.utils import get_upload_folder

    call_later = guarded_call(component)
    outside = tmp_path / "secret.png"
    outside.write_bytes(b"x")
    for value in (SHAPES_FOR[component]({"path": str(outside)}), [{"path": str(outside)}], {"path": {"x": 1}}):
        with pytest.raises(gr.Error) as refused:
            call_later(value)
        assert refused.value.message == REFUSED
    os.makedirs(get_upload_folder(), exist_ok=True)
    uploaded = os.path.join(get_upload_folder(), f"glasses-test-upload-{os.getpid()}.png")
    with open(uploaded, "wb") as file:
        file.write(b"an upload")
    try:
        reference = {"path": uploaded, "orig_name": "photo.png", "meta": TAG}
        try:
            call_later(SHAPES_FOR[component](reference))
        except gr.Error as err:
            assert err.message != REFUSED
        except Exception:  # noqa: BLE001 - the component's own preprocessing of a fake file may fail: not ours
            pass
    finally:
        os.unlink(uploaded)


def test_a_value_that_may_hold_files_besides_text_may_hold_none():
    guarded_call("MultimodalTextbox")({"text": "hi", "files": []})   # not refused


@pytest.mark.parametrize("path", ["/tmp/gradio/\ud800x.png", "/tmp/gradio/x\x00.png", "data:image/png;base64,AA"])
def test_odd_paths_are_refused_with_the_same_message(path):
    import gradio as gr

    with pytest.raises(gr.Error) as refused:
        guarded_call("Image")({"path": path, "meta": TAG})
    assert refused.value.message == REFUSED
