"""Use a finished run: load it, label new text, score it on new data, export it."""
