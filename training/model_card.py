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


def write_model_card(folder: Path, card: dict) -> None:
    card = dict(card, data=dict(card["data"], licences={s: _DATA_LICENCES[s] for s in card["data"]["sources"]}))
    (folder / "model_card.json").write_text(json.dumps(card, indent=2) + "\n")
    (folder / "model_card.md").write_text(_markdown(card))


def _markdown(card: dict) -> str:
    model, data = card["model"], card["data"]
    lines = [
        "# glasses model card", "",
        f"GlassesNet ({model['parameters']:,} parameters, {model['size_bytes'] / 1e6:.2f} MB), "
        f"input {model['input_size']}x{model['input_size']} face crops (MTCNN box + "
        f"{model['crop_margin']:.0%} margin).", "",
        f"**Threshold** {card['threshold']}: {card['threshold_rule']}.", "",
        "## Data", "",
        "Splits are fixed by a hash of the person (or of the image where the data names no person); "
        "the test split chooses nothing.", "",
        "| split | rows |", "|---|---|",
        *[f"| {split} | {n} |" for split, n in data["rows_per_split"].items()], "",
        "Face detection per source (images without a detected face are left out of training and counted):", "",
        *[f"- {src}: {counts}" for src, counts in data["face_detection"].items()], "",
        "## Test metrics (glasses class, detected faces)", "",
        "| source | n | glasses | accuracy | precision | recall | F1 | ROC-AUC | not detected |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for src, m in card["test_metrics"].items():
        lines.append(f"| {src} | {m['n']} | {m['positives']} | {m['accuracy']} | {m['precision']} | "
                     f"{m['recall']} | {m['f1']} | {m['roc_auc'] if m['roc_auc'] is not None else '-'} | "
                     f"{m['not_detected']} |")
    lines += ["", "## Reproduce", "", f"    {card['command']}", "",
              f"Best epoch {card['best_epoch']} (validation ROC-AUC {card['validation_roc_auc']}); "
              f"{card['environment']}.", "",
              "## Licences of the training data", "",
              *[f"- {text}" for text in data["licences"].values()], "",
              "The weights are this project's own work; no training image is distributed with them.", ""]
    return "\n".join(lines)
