"""peftspec: declarative PEFT fine-tuning for text classification.

The spec layer (``peftspec.spec``) imports no torch, transformers or peft, so
``peftspec lint`` starts fast.
"""

__version__ = "0.1.0"


def load_run(path, batch_size=None):
    """A completed run ready for inference: `peftspec.load_run("runs/x").predict(["some text"]).labels()`.

    Imports torch and transformers on first use, not when `peftspec` is imported.
    """
    from peftspec.inference.loaded import load_run as _load_run

    return _load_run(path, batch_size)
