"""The app's REST routes (/api/health, /api/classify) and its Gradio endpoints, on a real `python app.py`."""
from __future__ import annotations

import io
import json
import os
import shutil
import socket
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from gradio_client import Client, handle_file
from PIL import Image

from glasses.prediction import SCHEMA
from tests.app_server import call_gradio
from tests.conftest import DATA, REPO, needs_data
from webapp.limits import MAX_UPLOAD_BYTES

GLASSES = DATA / "yalefaces" / "subject01.glasses"        # a GIF whatever its name says
NO_GLASSES = DATA / "yalefaces" / "subject02.noglasses"


def png(size=(64, 48), mode="RGB") -> bytes:
    """A plain image with no face in it."""
    out = io.BytesIO()
    Image.new(mode, size, 128).save(out, "PNG")
    return out.getvalue()


def post(url: str, fields: dict[str, tuple[str, bytes]]) -> tuple[int, dict]:
    """POST multipart form data; (status, JSON body)."""
    boundary = uuid.uuid4().hex
    body = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{name}"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n"
        for field, (name, data) in fields.items()) + f"--{boundary}--\r\n".encode()
    request = urllib.request.Request(url, body, {"Content-Type": f"multipart/form-data; boundary={boundary}"})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as err:
        return err.code, json.load(err)


def classify(app, name: str, data: bytes) -> tuple[int, dict]:
    return post(f"{app.url}/api/classify", {"image": (name, data)})


def test_health_is_ok_once_started(app_server):
    with urllib.request.urlopen(f"{app_server.url}/api/health") as response:
        assert response.status == 200
        assert json.load(response)["status"] == "ok"
    assert app_server.startup_seconds < 120   # loose: bench/app_start.py measures the real figure


@needs_data
def test_classify_tells_glasses_from_none(app_server):
    status, with_glasses = classify(app_server, GLASSES.name, GLASSES.read_bytes())
    assert status == 200
    assert (with_glasses["width"], with_glasses["height"]) == (320, 243)
    [face] = with_glasses["faces"]
    assert face["label"] == "glasses" and face["glasses_prob"] > 0.5 and face["face_prob"] > 0.9
    x1, y1, x2, y2 = face["box"]
    assert 0 <= x1 < x2 <= 320 and 0 <= y1 < y2 <= 243
    status, without = classify(app_server, NO_GLASSES.name, NO_GLASSES.read_bytes())
    assert status == 200 and [f["label"] for f in without["faces"]] == ["no_glasses"]


def prediction(name: str, width: int | None, height: int | None, error: str | None = None) -> dict:
    """The JSON of a photo without faces (glasses.Prediction.to_dict)."""
    return {"schema": SCHEMA, "name": name, "width": width, "height": height, "faces": [], "error": error}


@needs_data
@pytest.mark.parametrize("photo", [GLASSES, DATA / "celeba_hq" / "images" / "26354.jpg"])
def test_the_rest_answer_is_the_object_the_cli_prints(app_server, tmp_path, monkeypatch, capsys, photo):
    """`glasses predict photo --format json` and `curl -F image=@photo /api/classify`: the same object, the same
    faces to the last digit."""
    from glasses.cli import main

    shutil.copy(photo, tmp_path / "photo.jpg")
    monkeypatch.chdir(tmp_path)
    assert main(["predict", "photo.jpg", "--format", "json", "--quiet"]) == 0
    [printed] = json.loads(capsys.readouterr().out)
    status, answered = classify(app_server, "photo.jpg", (tmp_path / "photo.jpg").read_bytes())
    assert status == 200 and answered == printed and printed["faces"]


def test_the_openapi_document_describes_the_answer(app_server):
    with urllib.request.urlopen(f"{app_server.url}/api/openapi.json") as response:
        document = json.load(response)
    route = document["paths"]["/api/classify"]["post"]
    assert "image" in route["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"]
    answers = route["responses"]
    model = answers["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    properties = document["components"]["schemas"][model]["properties"]
    assert list(properties) == list(prediction("x", None, None))
    assert {"400", "405", "413"} <= set(answers)


def test_photo_without_face_has_size_and_no_faces(app_server):
    assert classify(app_server, "plain.png", png((64, 48))) == (200, prediction("plain.png", 64, 48))


def test_size_is_as_a_viewer_shows_it(app_server):
    """A JPEG stored 40x20 whose EXIF says 'rotate 90' is shown, and reported, 20x40."""
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    Image.new("RGB", (40, 20), 90).save(out, "JPEG", exif=exif)
    status, body = classify(app_server, "rotated.jpg", out.getvalue())
    assert status == 200 and (body["width"], body["height"]) == (20, 40)


@pytest.mark.parametrize("name, data, reason", [
    ("notes.jpg", b"shopping list: milk, eggs", "not an image"),
    ("empty.png", b"", "empty file"),
    ("cut.png", png((200, 200))[:300], "truncated PNG"),
    # The app's limit is half the CLI's: a 56-megapixel image the CLI would read is refused here.
    ("huge.png", png((8000, 7000), mode="1"), "image too large: 8000x7000 (limit 50 megapixels)"),
])
def test_unreadable_image_is_400_naming_file_and_reason(app_server, name, data, reason):
    assert classify(app_server, name, data) == (400, prediction(name, None, None, error=reason))


def test_missing_field_is_400_saying_how_to_send(app_server):
    status, body = post(f"{app_server.url}/api/classify", {"photo": ("a.png", png())})
    assert status == 400 and "form field 'image'" in body["error"] and "curl -F image=@" in body["error"]


@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_the_wrong_method_is_405_saying_how_to_call(app_server, method):
    request = urllib.request.Request(f"{app_server.url}/api/classify", method=method)
    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.urlopen(request, timeout=30)
    assert answer.value.code == 405 and answer.value.headers["Allow"] == "POST"
    assert "curl -F image=@photo.jpg" in json.load(answer.value)["error"]


def test_too_large_upload_is_413(app_server):
    status, body = classify(app_server, "big.jpg", b"\xff\xd8" + bytes(MAX_UPLOAD_BYTES))
    assert status == 413 and "too large" in body["error"] and "limit 50 MB" in body["error"]


def test_a_chunked_upload_is_cut_off_at_the_limit_not_read_to_its_end(app_server):
    """Chunked transfer declares no length: the server must stop reading at the limit, or an endless upload
    fills its disk."""
    host, port = app_server.url.removeprefix("http://").split(":")
    sent, chunk = 0, b"\xff" * (1024 * 1024)
    with socket.create_connection((host, int(port)), timeout=60) as sock:
        sock.sendall(b"POST /api/classify HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                     b"Content-Type: multipart/form-data; boundary=b\r\n\r\n")
        try:
            while sent < 20 * MAX_UPLOAD_BYTES:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        reply = sock.recv(65536).decode(errors="replace")
    assert sent < 3 * MAX_UPLOAD_BYTES, f"the server read {sent / 2**20:.0f} MB"
    assert reply.startswith("HTTP/1.1 413") and "limit 50 MB" in reply, reply[:300]


def test_concurrent_requests_are_all_served(app_server):
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda i: classify(app_server, f"{i}.png", png((64 + i, 48))), range(8)))
    assert [(status, body["width"]) for status, body in results] == [(200, 64 + i) for i in range(8)]


@pytest.fixture(scope="module")
def client(app_server) -> Client:
    return Client(app_server.url, verbose=False)


def test_gradio_endpoints_have_explicit_names(client):
    assert set(client.view_api(print_info=False, return_format="dict")["named_endpoints"]) == \
        {"/classify", "/threshold", "/batch", "/review_start", "/review_keep", "/review_flip",
         "/review_no_face", "/review_unsure", "/review_skip", "/review_undo", "/review_accept_page",
         "/review_undo_chosen", "/review_stats", "/review_export"}


@needs_data
def test_gradio_classify_then_rethreshold_without_the_model(client, tmp_path):
    photo = shutil.copy(NO_GLASSES, tmp_path / "subject02.gif")
    overlay, table, raw, verdict, headline = client.predict(handle_file(photo), 0.5, api_name="/classify")
    assert Image.open(overlay).size == (320, 243) and os.path.basename(overlay) == "subject02_overlay.jpg"
    assert raw["faces"][0]["label"] == "no_glasses" and table["data"][0][0] == "no_glasses"   # the label first
    assert table["data"][0][1] == f"{raw['faces'][0]['glasses_prob']:.1%}"   # in percent; the JSON as it is
    assert headline["label"].startswith("no glasses ")
    assert verdict == "**subject02\\.gif**: 1 face (0 with glasses)"   # the name escaped for Markdown
    prob = raw["faces"][0]["glasses_prob"]
    _, table, raw, verdict, headline = client.predict(prob / 2, api_name="/threshold")   # the face is now above it
    assert raw["faces"][0]["label"] == "glasses" and raw["faces"][0]["glasses_prob"] == prob
    assert verdict == "**subject02\\.gif**: 1 face (1 with glasses)" and headline["label"].startswith("glasses ")


def test_gradio_classify_reports_unreadable_file(app_server, client, tmp_path):
    """The visitor reads why where the result goes, and the JSON says it as the REST route does; the server
    log is not filled with a traceback for every bad upload."""
    (tmp_path / "notes.jpg").write_text("not a photo")
    logged_before = len(app_server.server_log())
    overlay, table, raw, verdict, _ = client.predict(handle_file(tmp_path / "notes.jpg"), 0.5, api_name="/classify")
    assert (overlay, table["data"], raw) == (None, [], prediction("notes.jpg", None, None, error="not an image"))
    assert verdict == "**Cannot classify notes\\.jpg**: not an image"
    assert "Traceback" not in app_server.server_log()[logged_before:]


@pytest.mark.parametrize("threshold", [5, -0.1, "abc", None])
def test_gradio_classify_refuses_a_threshold_the_slider_cannot_give(client, tmp_path, threshold):
    (tmp_path / "plain.png").write_bytes(png())
    with pytest.raises(Exception, match="the threshold must be a number from 0 to 1"):
        client.predict(handle_file(tmp_path / "plain.png"), threshold, api_name="/classify")


def test_gradio_batch_reports_bad_files_as_rows(client, tmp_path):
    (tmp_path / "plain.png").write_bytes(png())
    (tmp_path / "notes.jpg").write_text("not a photo")
    table, csv_path, verdict, *_ = client.predict([handle_file(tmp_path / "plain.png"),
                                                   handle_file(tmp_path / "notes.jpg")], api_name="/batch")
    labels = {row[0]: (row[-2], row[-1]) for row in table["data"]}
    assert labels == {"plain.png": ("no_face", ""), "notes.jpg": ("error", "not an image")}
    with open(csv_path) as f:
        assert f.read().splitlines() == ["name,width,height,face,x1,y1,x2,y2,face_prob,glasses_prob,label,error",
                                         "plain.png,64,48,,,,,,,,no_face,", "notes.jpg,,,,,,,,,,error,not an image"]
    assert verdict == "0 faces (0 with glasses), 1 photo without a face, 1 unreadable file"


def test_gradio_queue_serves_concurrent_visitors_in_turn(app_server, tmp_path):
    (tmp_path / "plain.png").write_bytes(png())
    clients = [Client(app_server.url, verbose=False) for _ in range(4)]
    jobs = [c.submit([handle_file(tmp_path / "plain.png")], api_name="/batch") for c in clients]
    assert [job.result(timeout=300)[2] for job in jobs] == ["0 faces (0 with glasses), 1 photo without a face"] * 4


def test_gradio_upload_over_the_limit_is_refused(client, tmp_path):
    big = tmp_path / "big.jpg"
    big.write_bytes(bytes(MAX_UPLOAD_BYTES + 1024))
    with pytest.raises(ValueError, match=f"exceeds the maximum file size of {MAX_UPLOAD_BYTES} bytes"):
        client.predict(handle_file(big), 0.5, api_name="/classify")


@pytest.mark.parametrize("endpoint", ["classify", "batch"])
def test_gradio_endpoints_refuse_files_that_were_not_uploaded(app_server, endpoint):
    """A visitor names a file on the server instead of uploading one: a photo the server can read (here the
    README's screenshot) must not come back as an overlay or a row."""
    on_server = {"path": str(REPO / "docs" / "app-classify.png"), "meta": {"_type": "gradio.FileData"}}
    data = [on_server, 0.5] if endpoint == "classify" else [[on_server]]
    event, payload = call_gradio(app_server, endpoint, data)
    assert event == "error" and "refused: send files to this app by uploading them first" in payload, payload


def test_a_size_just_over_the_limit_never_reads_as_the_limit():
    from webapp.limits import too_large

    assert too_large(MAX_UPLOAD_BYTES + 1) == "too large: 50.1 MB (limit 50 MB)"
    assert too_large(400 * 1024 * 1024) == "too large: 400.0 MB (limit 50 MB)"
    assert too_large() == "too large (limit 50 MB)"   # a chunked upload, cut off before its size is known


def answer(url: str, method: str, headers: dict | None = None):
    """(status, headers, body) of a bodiless request, whatever its status; the headers are looked up by name
    in any case."""
    request = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


@pytest.mark.parametrize("method", ["HEAD", "OPTIONS", "PATCH", "DELETE", "TRACE"])
def test_every_method_but_post_on_classify_is_405_allowing_post(app_server, method):
    status, headers, body = answer(f"{app_server.url}/api/classify", method)
    assert (status, headers["Allow"]) == (405, "POST")
    if method != "HEAD":   # a HEAD answer has no body
        assert "curl -F image=@photo.jpg" in json.loads(body)["error"]


def test_a_cors_preflight_of_classify_is_405_too(app_server):
    """The REST routes send no CORS headers, so a browser's preflight is not answered as if they did."""
    status, headers, _ = answer(f"{app_server.url}/api/classify", "OPTIONS",
                                {"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"})
    assert (status, headers["Allow"]) == (405, "POST")
    assert not any(name.lower().startswith("access-control-") for name in headers.keys())


def test_health_answers_get_and_head_and_405_otherwise(app_server):
    url = f"{app_server.url}/api/health"
    assert answer(url, "HEAD")[::2] == (200, b"")
    assert json.loads(answer(url, "GET")[2])["status"] == "ok"
    for method in ["POST", "PUT", "DELETE", "OPTIONS"]:
        status, headers, body = answer(url, method)
        assert (status, headers["Allow"], json.loads(body)) == (405, "GET, HEAD",
                                                                {"error": "/api/health takes GET or HEAD"}), method


def test_a_large_photo_is_answered_in_its_full_size_and_drawn_reduced(app_server, client, tmp_path):
    """A 6000x4000 JPEG is read at half scale (libjpeg's draft): the JSON gives the photo's own size, the
    Classify tab's overlay is the reduced copy, which is all a screen shows."""
    photo = tmp_path / "large.jpg"
    Image.new("RGB", (6000, 4000), (90, 110, 130)).save(photo, quality=80)
    assert classify(app_server, "large.jpg", photo.read_bytes()) == (200, prediction("large.jpg", 6000, 4000))
    overlay, _, raw, *_ = client.predict(handle_file(photo), 0.5, api_name="/classify")
    assert (raw["width"], raw["height"]) == (6000, 4000) and Image.open(overlay).size == (3000, 2000)
