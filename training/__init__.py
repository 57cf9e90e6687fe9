"""Data importers, face-crop cache and training for the glasses classifier. Output lands in weights/."""
