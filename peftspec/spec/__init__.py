"""The spec layer: Pydantic models, TOML loading with source positions, lint rules.

Imports no torch, transformers or peft.
"""

from peftspec.spec.diagnostics import Diagnostic, SpecError
from peftspec.spec.loader import LoadResult, check_spec, load_spec
from peftspec.spec.root import Spec

__all__ = ["Diagnostic", "Spec", "SpecError", "LoadResult", "check_spec", "load_spec"]
