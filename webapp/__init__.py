"""The Gradio app and REST routes that `python app.py` serves (and the Hugging Face Space runs), built on `glasses`."""
