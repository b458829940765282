"""Results from recorded runs: `peftspec compare` (tables) and `peftspec report` (Markdown + HTML).

Every number comes from a file in a run directory, read through `peftspec.runs`.
"""
