"""The model card: the same facts as JSON (for programs, the app's Model tab) and markdown (for people)."""
from __future__ import annotations

import json
from pathlib import Path

_DATA_LICENCES = {
    "celeba_hq": "CelebA-HQ / CelebAMask-HQ: non-commercial research use only",
    "olivetti": "AT&T Olivetti faces: research use, credit AT&T Laboratories Cambridge",
    "cmu_faces": "CMU Face Images (UCI): research use",
    "yalefaces": "Yale Face Database A: research use",
}
# A source a team adds in its own manifest: this project cannot know its terms, and says so in the card.
_UNKNOWN_LICENCE = "not known to this project: check the terms of this source's photos"


def write_model_card(folder: Path, card: dict) -> None:
    licences = {s: _DATA_LICENCES.get(s, _UNKNOWN_LICENCE) for s in card["data"]["sources"]}
    card = dict(card, data=dict(card["data"], licences=licences))
    (folder / "model_card.json").write_text(json.dumps(card, indent=2) + "\n")
    (folder / "model_card.md").write_text(_markdown(card))


def add_exports(folder: Path, exports: dict, command: str) -> None:
    """Record the exported files (size, speed, agreement with PyTorch) and the command in the card."""
    card = json.loads((folder / "model_card.json").read_text())
    card["exports"] = exports
    card["commands"] = [c for c in card["commands"] if not c.startswith("python -m training.export")] + [command]
    write_model_card(folder, card)


def add_robustness(folder: Path, table: dict, command: str) -> None:
    """Record the test split's figures under corruptions (training/robustness.py) and the command in the card."""
    card = json.loads((folder / "model_card.json").read_text())
    card["robustness"] = table
    card["commands"] = [c for c in card["commands"] if not c.startswith("python -m training.robustness")] + [command]
    write_model_card(folder, card)


def _trust_sections(card: dict) -> list[str]:
    """What says how far to trust the model, where the card records it: its calibration, where its labels came
    from, and its test figures under corruptions."""
    lines = []
    calibration = card.get("calibration")
    if calibration:
        test_ece = card["test_metrics"]["all"].get("ece")
        lines += ["", "## Calibration", "",
                  f"{calibration['method']}: P(glasses) = sigmoid({calibration['scale']:g} x logit "
                  f"{'-' if calibration['bias'] < 0 else '+'} {abs(calibration['bias']):g}). Expected calibration error on validation "
                  f"{calibration['val_ece_before']} before, {calibration['val_ece_after']} after"
                  + (f"; on test {test_ece}" if test_ece is not None else "") + "."]
    origin = card.get("provenance")
    if origin:
        manifest, reviews, code = origin["manifest"], origin.get("reviews"), origin.get("code")
        lines += ["", "## Labels and provenance", "",
                  (f"Manifest `{manifest['file']}` ({manifest['rows']:,} rows, sha256 `{manifest['sha256'][:16]}`)."
                   if manifest.get("file") else f"Raw labels as the importers read them ({manifest['rows']:,} rows)."),
                  *([f"Code: commit `{code['commit'][:12]}`"
                     + (" with uncommitted changes." if code["uncommitted_changes"] else ".")] if code else [])]
        if reviews:
            columns = ("reviewed", "flipped_to_glasses", "flipped_to_no_glasses", "dropped_no_face", "held_out")
            lines += ["", f"Reviewed labels: {reviews['decisions']:,} decisions in `{reviews['file']}` (sha256 "
                      f"`{reviews['sha256'][:16]}`) by {', '.join(reviews['reviewers'])}.", "",
                      "| source | " + " | ".join(c.replace("_", " ") for c in columns) + " |",
                      "|---" * (len(columns) + 1) + "|",
                      *[f"| {source} | " + " | ".join(f"{counts.get(c, 0):,}" for c in columns) + " |"
                        for source, counts in reviews["by_source"].items()]]
    robustness = card.get("robustness")
    if robustness:
        from training.robustness import format_table
        lines += ["", "## Robustness (test split, each corruption applied to the whole photo)", "",
                  format_table(robustness)]
    return lines


def _markdown(card: dict) -> str:
    model, data = card["model"], card["data"]
    positive, negative = (card["labels"]["positive"], card["labels"]["negative"]) if "labels" in card \
        else ("glasses", "no_glasses")
    attribute = card.get("attribute", "Eyeglasses")
    lines = [
        f"# {positive} model card", "",
        *([f"**Attribute** `{attribute}` (1 = `{positive}`, 0 = `{negative}`): the labels this model learnt, and "
           "the words every surface shows for its answers.", ""] if attribute != "Eyeglasses" else []),
        f"{model.get('architecture', 'GlassesNet')} ({model['parameters']:,} parameters, "
        f"{model['file']}: {model['size_bytes'] / 1e6:.2f} MB), "
        f"input {model['input_size']}x{model['input_size']} face crops ({card.get('detector', 'MTCNN')} box + "
        f"{model['crop_margin']:.0%} margin).", "",
        f"**Threshold** {card['threshold']}: {card['threshold_rule']}.", "",
        *([f"**Mirror averaging** (glasses/mirror.py): a face whose logit lies within {card['mirror_band']} of the "
           "threshold's (the most averaging moved a validation logit) gets a second pass on its mirror image, "
           f"and the two logits are averaged; {card['test_metrics']['all']['mirror_pass_share']:.1%} of test "
           "faces did.", ""]
          if card.get("mirror_band") and "mirror_pass_share" in card["test_metrics"]["all"] else []),
        "## Data", "",
        "Splits are fixed by a hash of the person (or of the image where the data names no person); "
        "the test split chooses nothing.", "",
        "| split | rows |", "|---|---|",
        *[f"| {split} | {n} |" for split, n in data["rows_per_split"].items()], "",
        *([f"Training repeats the rows of each source that is under {data['min_source_share']:.0%} of the training "
           f"split until it is not ({data['train_items_per_epoch']:,} items per epoch), so the small sources "
           "count.", ""] if "min_source_share" in data else []),
        "Face detection per source (images without a detected face are left out of training and counted):", "",
        "| source | face found | no face |", "|---|---|---|",
        *[f"| {src} | {counts.get('ok', 0):,} | {counts.get('no_face', 0):,} |"
          for src, counts in data["face_detection"].items()], "",
        f"## Test metrics ({positive} class; every test photo, one in which no face was found scored 0)", "",
        f"| source | n | {positive} | accuracy | precision | recall | F1 | ROC-AUC | not detected |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for src, m in card["test_metrics"].items():
        lines.append(f"| {src} | {m['n']} | {m['positives']} | {m['accuracy']} | {m['precision']} | "
                     f"{m['recall']} | {m['f1']} | {m['roc_auc'] if m['roc_auc'] is not None else '-'} | "
                     f"{m['not_detected']} |")
    lines += ["", "Plots of the run (learning curves; ROC and precision-recall per source and confusion matrix on "
              "the test split):", "", *[f"![{Path(plot).stem}]({plot})" for plot in card.get("plots", [])]]
    if card.get("exports"):
        lines += ["", "## Files and speed", "",
                  f"Classifier alone, one pass per face at batch 1 with {card['exports']['threads']} thread(s) on "
                  "this project's CPU; the largest difference in probability from PyTorch on random and real crops:",
                  "", "| runtime | file | bytes | ms/face | max prob diff |", "|---|---|---|---|---|",
                  *[f"| {e['variant']} | {e['file']} | {e['size_bytes']:,} | {e['ms_per_face']:.2f} | "
                    f"{e['max_prob_diff']:.1e} |" for e in card["exports"]["variants"]]]
    lines += _trust_sections(card)
    distilled = card.get("distillation")
    lines += ["", "## Reproduce", "", *[f"    {command}" for command in card["commands"]], "",
              f"Best epoch {card['best_epoch']} (validation ROC-AUC {card['validation_roc_auc']}); "
              f"{card.get('processes', 1)} process(es); "
              f"{', '.join(f'{name} {version}' for name, version in card['environment'].items())}.",
              *([f"Distilled from the teacher {distilled['teacher']} (loss weight {distilled['weight']})."]
                if distilled else []), "",
              "## Licences of the training data", "",
              *[f"- {text}" for text in data["licences"].values()], "",
              "The weights are this project's own work; no training image is distributed with them.", ""]
    return "\n".join(lines)
