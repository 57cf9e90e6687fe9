"""`python app.py`: the web app (Gradio UI and REST routes), as the Hugging Face Space runs it.

Host and port come from --host/--port, else Gradio's usual GRADIO_SERVER_NAME/GRADIO_SERVER_PORT, else
127.0.0.1:7860. The model is loaded before the server listens, so /api/health answers 200 from the start.
A connection too slow to send its request is closed after 30 s (webapp/connections.py;
$GLASSES_SLOW_CLIENT_TIMEOUT_S sets other seconds). The upload, pixel, zip and batch-time limits and the face
detector's settings take other values from GLASSES_* variables too (glasses/config.py lists them); a bad one
stops the app at once, with a message naming it.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

from glasses.config import ConfigError, load_config
from glasses.manifest import DEFAULT_DATA


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Serve the glasses web app: Gradio UI at /, REST at /api.")
    parser.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
                        help="address to listen on (default: $GRADIO_SERVER_NAME or 127.0.0.1; 0.0.0.0 for all)")
    parser.add_argument("--port", type=_port, default=os.environ.get("GRADIO_SERVER_PORT", "7860"),
                        help="port (default: $GRADIO_SERVER_PORT or 7860)")
    parser.add_argument("--weights", help="model file (default: the shipped weights/glasses.onnx)")
    review = parser.add_argument_group("Relabel tab", "off unless --manifest is given")
    review.add_argument("--manifest", type=Path, help="training manifest to review (path,label,source,group,split"
                                                      "[,pred_prob]), e.g. training/oof.py's")
    review.add_argument("--data", type=Path, default=DEFAULT_DATA,
                        help="folder the manifest's paths are relative to (default: %(default)s)")
    review.add_argument("--db", type=Path, help="review database, created if absent (default: reviews.sqlite "
                                                "beside the manifest)")
    review.add_argument("--export", type=Path, metavar="OUT.csv",
                        help="where the tab's Export button writes the corrected manifest (and OUT.held_out.csv "
                             "beside it); never the manifest or the database")
    return parser


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"must be a port number from 1 to 65535, got {text!r}")
    return int(text)


def main(argv: list[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.export and not args.manifest:   # else the corrected manifest the operator asked for is never written
        parser.error("--export writes the Relabel tab's corrected manifest: it needs --manifest")
    try:   # before webapp is imported: its limits are read from GLASSES_* variables when it is
        load_config()
    except ConfigError as err:
        parser.error(str(err))
    # Imported after parsing: `--help` answers at once instead of after seconds of importing Gradio,
    # and a bad GRADIO_SERVER_PORT gets argparse's message instead of the traceback Gradio's import raises.
    import uvicorn

    from glasses.weights import DEFAULT_WEIGHTS
    from relabel.export import ExportError
    from relabel.suspects import ModelError
    from relabel.store import StoreError
    from glasses.manifest import ManifestError
    from webapp.connections import slow_client_protocol, slow_client_timeouts
    from webapp.context import AppContext
    from webapp.review_desk import ReviewDesk
    from webapp.server import create_app
    from webapp.shared_predictor import SharedPredictor

    try:
        timeouts = slow_client_timeouts()
    except ValueError as err:
        parser.error(str(err))
    weights = args.weights or DEFAULT_WEIGHTS
    try:
        predictor = SharedPredictor.load(weights)
    except (OSError, ValueError, RuntimeError) as err:
        parser.error(f"cannot load the model: {err}")   # the model file's errors name it
    desk = None
    if args.manifest:
        try:
            desk = ReviewDesk.open(args.manifest, args.data, args.db or args.manifest.parent / "reviews.sqlite",
                                   predictor, export_to=args.export)
        except (ManifestError, StoreError, ExportError, ModelError) as err:
            parser.error(f"cannot review: {err}")
    # The h11 protocol with limits on slow clients (webapp/connections.py), whether or not httptools is installed.
    uvicorn.run(create_app(AppContext(predictor, desk)), host=args.host, port=args.port,
                http=slow_client_protocol(*timeouts))


if __name__ == "__main__":
    main()
