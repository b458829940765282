"""`peftspec tui`: a Textual browser for run directories. Reads runs only through `peftspec.runs`."""
