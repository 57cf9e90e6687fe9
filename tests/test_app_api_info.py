"""What Gradio's API description (/gradio_api/info) says an endpoint takes is what the endpoint accepts."""
from __future__ import annotations

import json
import urllib.request

from gradio_client import Client


def test_review_start_takes_the_given_labels_its_description_lists(app_server):
    with urllib.request.urlopen(f"{app_server.url}/gradio_api/info", timeout=30) as response:
        info = json.load(response)
    [labels] = [p for p in info["named_endpoints"]["/review_start"]["parameters"] if p["label"] == "Given label"]
    assert labels["python_type"]["type"] == "list[Literal['1', '0']]"
    sources = [p for p in info["named_endpoints"]["/review_start"]["parameters"] if p["label"] == "Source"][0]
    client = Client(app_server.url, verbose=False)
    shown, _, item, *_ = client.predict("api-user", sources["parameter_default"], ["1"], ["unreviewed", "kept"],
                                        api_name="/review_start")   # the view (grid or single) left at its default
    assert shown and "Given label **glasses (1)**" in item
