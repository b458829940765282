"""Train a `CompiledRun` (from `peftspec.build.compile_run`) into a run directory.

`start(compiled, console)` trains a new run; `resume(compiled, run, checkpoint, ...)` continues one
from a complete checkpoint; `follow(compiled, paths)` is what ranks other than 0 run under torchrun.
Each returns a `RunOutcome` (the run's paths, the overview, the final evaluation). This package
never reads the spec: everything it needs is in the `CompiledRun`.
"""

from peftspec.train.interrupt import RunInterrupted
from peftspec.train.resume import resume
from peftspec.train.runner import RunOutcome, follow, start

__all__ = ["RunInterrupted", "RunOutcome", "follow", "resume", "start"]
