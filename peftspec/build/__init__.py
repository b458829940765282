"""Spec -> Hugging Face / PEFT objects: data, tokenisation, model, training arguments, metrics.

Pure builders: each takes validated spec sections and returns library objects. Heavy imports
(torch, transformers, peft, datasets, polars) stay inside the functions that need them.
"""
