"""Not code: the model files. This file makes the folder a regular package, so that an installed glasses carries
it as `glasses.models` (pyproject.toml maps one onto the other) and importlib.resources finds it on disk."""
