"""The Relabel tab's statistics panel as Markdown: each reviewer's decisions and pace, and each pair's
agreement (Cohen's kappa) with the files they disagree on. Reviewer names and file names are shown as
text (webapp.markdown_text), whatever characters they hold."""
from __future__ import annotations

from relabel.reviewer_stats import BREAK_S, PairAgreement, ReviewerStats
from webapp.markdown_text import code, literal
from webapp.review_words import file_name

NAMED_DISPUTES = 5   # files named per pair; the Review disputed rows button opens all of them


def stats_markdown(reviewers: list[ReviewerStats], pairs: list[PairAgreement]) -> str:
    if not reviewers:
        return "No decisions yet."
    lines = ["| Reviewer | Decisions standing | Made in the app | Per minute |", "|---|---:|---:|---:|"]
    for r in reviewers:
        pace = "-" if r.per_minute is None else f"{r.per_minute:.1f}"
        lines.append(f"| {literal(r.reviewer)} | {r.decisions:,} | {r.made_in_app:,} | {pace} |")
    text = "\n".join(lines) + (f"\n\nPer minute: decisions in the app after the first (or first page), over the time "
                               f"between them, pauses over {BREAK_S / 60:.0f} minutes left out.")
    if not pairs:
        return text + "\n\nAgreement shows once two reviewers have decided the same rows."
    lines = ["| Reviewers | Rows both decided | Agreed | Cohen's kappa | They differ on |", "|---|---:|---:|---:|---|"]
    for p in pairs:
        kappa = "undefined (one answer throughout)" if p.kappa is None else f"{p.kappa:.2f}"
        named = ", ".join(code(file_name(path)).replace("|", "\\|") for path in p.disputed[-NAMED_DISPUTES:][::-1])
        more = f" and {len(p.disputed) - NAMED_DISPUTES} more" if len(p.disputed) > NAMED_DISPUTES else ""
        lines.append(f"| {literal(p.first)} · {literal(p.second)} | {p.both:,} | {p.agreed:,} | {kappa} | "
                     f"{named + more or 'nothing'} |")
    return text + "\n\n" + "\n".join(lines)
