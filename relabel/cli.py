"""`python -m relabel suspects | sheets | import | decisions | export`: the relabel workflow for scripts.

Exit status: 0 done; 1 an input was refused or an output could not be written (the message names the file
and the rows; nothing was written); 2 a usage error, such as an --out that would overwrite an input.
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from pathlib import Path

from glasses.errors import GlassesError
from glasses.manifest import DEFAULT_DATA, load_manifest
from relabel.export import (corrected_manifest, held_out_path, overwritten_input, standing_decisions, write_corrected,
                            write_decisions)
from relabel.imports import import_decisions
from relabel.store import ReviewStore
from relabel.suspects import rank_manifest, review_labels

EXIT_OK, EXIT_REFUSED = 0, 1   # usage errors exit 2, through argparse
SUSPECT_COLUMNS = ("path", "label", "pred_prob", "score")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m relabel",
                                     description="Find wrong labels in a training manifest and apply reviewers' "
                                                 "fixes. Manifest paths are relative to the data folder (--data).")
    commands = parser.add_subparsers(dest="command", required=True)

    suspects = _command(commands, "suspects", help="rank the rows by how likely their label is wrong",
                                   description="Print path,label,pred_prob,score, most suspect first. score is "
                                               "the label quality: the model's probability of the given label "
                                               "(0 = surely wrong, 1 = surely right). "
                                               "pred_prob comes from the manifest's column (out-of-fold, "
                                               "training/oof.py) or, without one, from the model run now; stderr "
                                               "says which. Rows without a face come last, unscored.")
    suspects.add_argument("--top", type=_positive_int, help="print only the K most suspect rows")
    suspects.add_argument("--top-share", type=_share, metavar="F",
                          help="print only the most suspect share F (0..1] of the rows --split and --disagree-at "
                               "leave")
    suspects.add_argument("--split", nargs="+", choices=("train", "val", "test"), help="only rows of these splits")
    suspects.add_argument("--disagree-at", type=_share, metavar="T",
                          help="only rows whose pred_prob is on the other side of threshold T from their label")
    suspects.add_argument("--format", choices=("csv", "table"), default="csv", help="(default: csv)")
    suspects.add_argument("--weights", type=Path, help="model for manifests without pred_prob "
                                                       "(default: the shipped weights/glasses.onnx)")

    export = _command(commands, "export", help="write the corrected manifest for training",
                                 description="Apply the reviewers' decisions: flipped labels changed, no-face rows "
                                             "dropped, unsure and disputed rows held out. Rows left out are listed "
                                             "in OUT's .held_out.csv sibling. Prints the counts as JSON.")
    export.add_argument("--db", type=Path, required=True, help="the review database")
    export.add_argument("--out", type=Path, required=True, help="the corrected manifest to write")

    imports = _command(commands, "import", help="merge decisions made elsewhere into the review database",
                                  description="DECISIONS is a CSV with path,label,reviewer; label is 0, 1, no_face "
                                              "or unsure. All rows are recorded or, on any problem, none.")
    imports.add_argument("decisions", type=Path, metavar="DECISIONS")
    imports.add_argument("--db", type=Path, required=True, help="the review database (created if absent)")

    decisions = _command(commands, "decisions", help="write the standing decisions as a CSV import reads",
                                    description="Write path,label,reviewer,decided_at: each reviewer's standing "
                                                "decision on each of the manifest's rows (label 0, 1, no_face or "
                                                "unsure; skips and undone decisions left out), oldest first. "
                                                "It holds no pixels: commit it; `import` records its decisions "
                                                "again in an empty store, which then exports the same manifest.")
    decisions.add_argument("--db", type=Path, required=True, help="the review database")
    decisions.add_argument("--out", type=Path, required=True, help="the CSV to write")

    sheets = _command(commands, "sheets", help="draw pages of numbered face crops for review by eye",
                                 description="Write OUT/sheet_NNN.png (numbered faces with their given labels, most "
                                             "suspect first) and OUT/index.csv (number -> path). The sheets show "
                                             "the data: keep OUT outside the repository.")
    chosen = sheets.add_mutually_exclusive_group(required=True)
    chosen.add_argument("--top", type=_positive_int, help="the K most suspect rows")
    chosen.add_argument("--paths", type=Path, help="the rows named in this CSV's path column, in ranked order")
    sheets.add_argument("--out", type=Path, required=True, help="folder for the sheets and index.csv")
    sheets.add_argument("--per-sheet", type=_positive_int, default=24, help="faces a sheet (default: 24)")
    sheets.add_argument("--weights", type=Path, help="model for manifests without pred_prob")
    return parser


def _command(commands, name: str, **kwargs) -> argparse.ArgumentParser:
    """A subcommand with what they all take: MANIFEST first, and --data."""
    command = commands.add_parser(name, **kwargs)
    command.add_argument("manifest", type=Path, metavar="MANIFEST",
                         help="manifest CSV (path,label,source,group,split[,pred_prob])")
    command.add_argument("--data", type=Path, default=DEFAULT_DATA,
                         help="the folder the manifest's paths are relative to (default: %(default)s)")
    command.set_defaults(parser=command)
    return command


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, got {text}")
    return int(text)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        manifest = load_manifest(args.manifest, args.data)
        return COMMANDS[args.command](args, manifest)
    except GlassesError as err:   # a manifest, database, decisions file, model or output that cannot be used
        print(f"relabel {args.command}: {err}", file=sys.stderr)
        return EXIT_REFUSED


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be a number above 0 and at most 1, got {text}")
    return value


def _suspects(args, manifest) -> int:
    ranking = rank_manifest(manifest, args.weights)
    print(f"ranked with the {ranking.probabilities}", file=sys.stderr)
    chosen = ranking.suspects
    if args.split:
        split_of = {row["path"]: row["split"] for row in manifest.rows}
        chosen = [s for s in chosen if split_of[s.path] in args.split]
    if args.disagree_at is not None:
        chosen = [s for s in chosen if s.pred_prob is not None and (s.pred_prob >= args.disagree_at) != s.label]
    if args.top_share is not None:
        chosen = chosen[:math.ceil(args.top_share * len(chosen))]
    rows = [{"path": s.path, "label": s.label, "pred_prob": "" if s.pred_prob is None else s.pred_prob,
             "score": "" if s.score is None else s.score} for s in chosen[:args.top]]
    if args.format == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=SUSPECT_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    else:
        widths = {c: max([len(c), *(len(str(row[c])) for row in rows)]) for c in SUSPECT_COLUMNS}
        for row in [dict(zip(SUSPECT_COLUMNS, SUSPECT_COLUMNS)), *rows]:
            print("  ".join(str(row[c]).ljust(widths[c]) for c in SUSPECT_COLUMNS).rstrip())
    return EXIT_OK


def _export(args, manifest) -> int:
    _refuse_overwriting_inputs(args, manifest, {"--out": args.out, "--out's held-out list": held_out_path(args.out)})
    corrected = corrected_manifest(manifest, ReviewStore(args.db, create=False).current())
    held_out = write_corrected(corrected, args.out)
    print(json.dumps({"out": str(args.out), "held_out": str(held_out), **corrected.counts}))
    return EXIT_OK


def _refuse_overwriting_inputs(args, manifest, outputs: dict[str, Path]) -> None:
    """`outputs` (by the option that names them) replace whatever is there: the manifest, or the review database
    (every decision) and its WAL files, must not be. Checked before the database is opened, so nothing is
    written."""
    problem = overwritten_input(outputs, manifest.path, args.db)
    if problem:
        args.parser.error(problem)


def _import(args, manifest) -> int:
    imported = import_decisions(args.decisions, manifest, ReviewStore(args.db))
    print(json.dumps({"db": str(args.db), "recorded": imported.recorded, "repeated": imported.repeated}))
    return EXIT_OK


def _decisions(args, manifest) -> int:
    _refuse_overwriting_inputs(args, manifest, {"--out": args.out})
    rows, elsewhere = standing_decisions(manifest, ReviewStore(args.db, create=False).current())
    write_decisions(rows, args.out)
    print(json.dumps({"out": str(args.out), "decisions": len(rows), "images": len({r["path"] for r in rows}),
                      "decided_images_not_in_manifest": elsewhere}))
    return EXIT_OK


def _sheets(args, manifest) -> int:
    from relabel.sheets import read_paths, write_sheets   # the detector loads only for this command
    ranking = rank_manifest(manifest, args.weights)
    suspects = ranking.suspects[:args.top]
    if args.paths:
        try:
            wanted = set(read_paths(args.paths))
        except (OSError, ValueError) as err:
            args.parser.error(f"--paths: {err}")
        unknown = sorted(wanted - {s.path for s in ranking.suspects})
        if unknown:
            args.parser.error(f"--paths: {len(unknown)} paths are not in {manifest.path}, e.g. {unknown[0]}")
        suspects = [s for s in ranking.suspects if s.path in wanted]
    try:
        sheets = write_sheets(suspects, manifest.data_root, args.out, args.per_sheet,
                              words=review_labels(manifest).words)
    except OSError as err:
        print(f"relabel sheets: {args.out}: cannot be written ({err.strerror or err})", file=sys.stderr)
        return EXIT_REFUSED
    print(json.dumps({"out": str(args.out), "sheets": len(sheets), "faces": len(suspects),
                      "ranked_with": ranking.probabilities}))
    return EXIT_OK


COMMANDS = {"suspects": _suspects, "export": _export, "import": _import, "decisions": _decisions,
            "sheets": _sheets}
