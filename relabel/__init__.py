"""relabel: reviewers find and fix wrong labels in a training manifest; the corrected manifest feeds training.

manifest (load, validate) -> suspects (ranked by label quality) -> session (one reviewer's queue) -> store (SQLite,
every decision) -> export (corrected manifest). `python -m relabel --help` for the command line.
"""
