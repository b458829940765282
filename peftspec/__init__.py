"""peftspec: declarative PEFT fine-tuning for text classification.

The spec layer (``peftspec.spec``) imports no torch, transformers or peft, so
``peftspec lint`` starts fast.
"""

__version__ = "0.1.0"


def run(spec, overrides=(), *, dry_run=False):
    """Train a spec file as `peftspec run SPEC --set KEY=VALUE` does, with the same output; returns
    the recorded run (None for a dry run):

        run = peftspec.run("specs/quickstart.toml", ["trainer.epochs=2"])
        run.path, run.status, run.split_metrics("test")["f1_macro"]

    A spec or data problem raises a `peftspec.errors.UserError` that says where and what to fix.
    Imports torch and transformers on first use, not when `peftspec` is imported.
    """
    from peftspec.build.environment import quiet_loggers

    quiet_loggers()  # before the imports: bitsandbytes speaks while it is imported
    from peftspec.api import run_file

    return run_file(spec, overrides, dry_run=dry_run)


def load_run(path, batch_size=None):
    """A completed run ready for inference: `peftspec.load_run("runs/x").predict(["some text"]).labels()`.

    Imports torch and transformers on first use, not when `peftspec` is imported.
    """
    from peftspec.build.environment import quiet_loggers

    quiet_loggers()
    from peftspec.inference.loaded import load_run as _load_run

    return _load_run(path, batch_size)
