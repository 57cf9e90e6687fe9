"""Importers: each publisher's label format in ../shared/data -> manifest rows.

    python -m training.sources --out raw.csv        # the raw labels as a manifest, e.g. to review them

A row is `path,label,source,group,split`: `path` relative to the data folder, `label` 1 = glasses worn,
`group` the person where the data has persons (splits never divide a person), `split` train/val/test.

Any other binary attribute of the data works the same way (`--attribute Wearing_Hat`: label 1 = hat worn):
CelebA-HQ has 40 such columns; the other sources label glasses only, so for any other attribute they are left
out, and `build_manifest` says so. A manifest of another attribute carries it in an `attribute` column, which
the relabel workflow reads to name what it reviews.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import sys
from pathlib import Path

from glasses.errors import GlassesError
from glasses.labels import DEFAULT_ATTRIBUTE

TEST_FRACTION = 0.1
VAL_FRACTION = 0.1


def split_for(group: str) -> str:
    """A stable split from a hash of the group, so a person always lands in the same split on every machine."""
    fraction = int(hashlib.sha1(group.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    if fraction < TEST_FRACTION:
        return "test"
    return "val" if fraction < TEST_FRACTION + VAL_FRACTION else "train"


def _row(path: Path, root: Path, label: int, source: str, group: str) -> dict:
    return {"path": path.relative_to(root).as_posix(), "label": label, "source": source,
            "group": group, "split": split_for(f"{source}/{group}")}


class UnknownAttributeError(GlassesError, ValueError):
    """An attribute no source of the data labels; the message lists the ones there are."""


CELEBA_ATTRIBUTES_FILE = Path("celeba_hq") / "CelebAMask-HQ-attribute-anno.txt"


def celeba_attributes(root: Path) -> list[str]:
    """The attribute columns CelebA-HQ's file names (its second line), in order."""
    try:
        with open(root / CELEBA_ATTRIBUTES_FILE) as f:
            f.readline()
            return f.readline().split()
    except OSError as err:
        raise UnknownAttributeError(f"{root / CELEBA_ATTRIBUTES_FILE}: cannot be read ({err.strerror or err}); "
                                    "only CelebA-HQ labels attributes other than Eyeglasses") from None


def celeba_hq(root: Path, attribute: str = DEFAULT_ATTRIBUTE) -> list[dict]:
    """CelebAMask-HQ attribute file: a count line, a names line, then `<file> v1 ... v40` in +1/-1; the label is
    the `attribute` column's.

    It names no person, so each image is its own group.
    """
    folder = root / "celeba_hq"
    lines = (root / CELEBA_ATTRIBUTES_FILE).read_text().splitlines()
    names = lines[1].split()
    if attribute not in names:
        raise UnknownAttributeError(f"{root / CELEBA_ATTRIBUTES_FILE} has no column {attribute!r}; its columns: "
                              f"{', '.join(names)}")
    column = names.index(attribute) + 1
    rows = []
    for line in lines[2:]:
        fields = line.split()
        if fields:
            rows.append(_row(folder / "images" / fields[0], root, int(fields[column] == "1"),
                             "celeba_hq", fields[0]))
    return rows


def olivetti(root: Path) -> list[dict]:
    """labels.csv: `path,glasses,subject`, paths relative to the olivetti folder."""
    folder = root / "olivetti"
    with open(folder / "labels.csv", newline="") as f:
        return [_row(folder / rec["path"], root, int(rec["glasses"]), "olivetti", rec["subject"])
                for rec in csv.DictReader(f)]


def cmu_faces(root: Path) -> list[dict]:
    """`<person>/<person>_<pose>_<expression>_<eyes>.pgm`, eyes `sunglasses` or `open`; `.bad` files skipped."""
    rows = []
    for path in sorted((root / "cmu_faces").glob("*/*.pgm")):
        person, _pose, _expression, eyes = path.stem.split("_")[:4]
        rows.append(_row(path, root, int(eyes == "sunglasses"), "cmu_faces", person))
    return rows


def yalefaces(root: Path) -> list[dict]:
    """`subjectNN.<condition>`: only `glasses` and `noglasses` carry a label; other conditions are left out."""
    labels = {"glasses": 1, "noglasses": 0}
    rows = []
    for path in sorted((root / "yalefaces").glob("subject*.*")):
        subject, condition = path.name.split(".", 1)
        if condition in labels:
            rows.append(_row(path, root, labels[condition], "yalefaces", subject))
    return rows


IMPORTERS = {"celeba_hq": celeba_hq, "olivetti": olivetti, "cmu_faces": cmu_faces, "yalefaces": yalefaces}


def sources_with(attribute: str, root: Path, sources=tuple(IMPORTERS)) -> tuple[list[str], list[str]]:
    """Which of `sources` label `attribute` and which do not: (kept, left out). Raises UnknownAttributeError when
    none does, listing the attributes there are."""
    kept = [name for name in sources
            if attribute == DEFAULT_ATTRIBUTE or (name == "celeba_hq" and attribute in celeba_attributes(root))]
    if not kept:
        known = celeba_attributes(root) if "celeba_hq" in sources else [DEFAULT_ATTRIBUTE]
        raise UnknownAttributeError(f"no source of {', '.join(sources)} labels {attribute!r}; the attributes there "
                              f"are: {', '.join(known)}")
    return kept, [name for name in sources if name not in kept]


def build_manifest(root: Path, sources=tuple(IMPORTERS), attribute: str = DEFAULT_ATTRIBUTE,
                   say=lambda message: print(message, file=sys.stderr)) -> list[dict]:
    """Every labelled photo of `sources` for `attribute`; sources that do not label it are left out, and `say`
    is told which. Rows of any attribute but the default carry it in an `attribute` column."""
    if attribute == DEFAULT_ATTRIBUTE:
        return [row for name in sources for row in IMPORTERS[name](root)]
    kept, left_out = sources_with(attribute, root, sources)
    if left_out:
        say(f"left out {', '.join(left_out)}: no {attribute} labels there (only celeba_hq has other attributes)")
    return [dict(row, attribute=attribute) for row in celeba_hq(root, attribute)] if kept else []


def main(argv: list[str] | None = None) -> int:
    from glasses.manifest import DEFAULT_DATA, write_manifest

    parser = argparse.ArgumentParser(prog="python -m training.sources",
                                     description="Write the importers' manifest: every labelled photo, raw labels.")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder the sources are under")
    parser.add_argument("--sources", nargs="+", choices=list(IMPORTERS), default=list(IMPORTERS))
    parser.add_argument("--attribute", default=DEFAULT_ATTRIBUTE,
                        help="the binary attribute the labels are of: a CelebA-HQ column (default: %(default)s)")
    parser.add_argument("--out", type=Path, required=True, help="the manifest CSV to write")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        parser.error(f"--data {args.data}: not a folder")
    try:
        rows = build_manifest(args.data, args.sources, args.attribute)
    except UnknownAttributeError as err:
        parser.error(str(err))
    write_manifest(rows, args.out)
    print(f"{len(rows)} rows -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
