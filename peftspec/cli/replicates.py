"""`peftspec run SPEC --seeds 0,1,2 | --replicates N [--vary-split] | --folds K`: the options, their
seeds and folds."""

from __future__ import annotations

import argparse

from peftspec.errors import UsageError


def add_replicate_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--seeds",
        metavar="S,S,...",
        help="train once per seed (trainer.seed), recorded as one group of replicates",
    )
    p.add_argument(
        "--replicates",
        type=int,
        metavar="N",
        help="train N times, seeds trainer.seed, +1, ...: one group of replicates",
    )
    p.add_argument(
        "--folds",
        type=int,
        metavar="K",
        help="k-fold cross-validation: train once per fold of the training data (by label), "
        "each validating on its fold, recorded as one group",
    )
    p.add_argument(
        "--vary-split",
        action="store_true",
        help="with --seeds/--replicates: the validation split follows the seed too (dataset.split_seed)",
    )


def replicate_seeds(args: argparse.Namespace, spec) -> list[int] | None:
    """The replicates' seeds (`--seeds 0,1,2`, or `--replicates 3` from the spec's seed), or None."""
    if args.seeds is None and args.replicates is None:
        if args.vary_split:
            raise UsageError("--vary-split goes with --seeds or --replicates")
        return None
    if args.folds is not None:
        raise UsageError("give --folds or --seeds/--replicates, not both")
    if args.seeds is not None and args.replicates is not None:
        raise UsageError("give --seeds or --replicates, not both")
    if args.resume or args.dry_run or args.nproc_per_node or spec is None:
        raise UsageError(
            "--seeds and --replicates train a SPEC, on one process, without --resume or --dry-run"
        )
    if args.replicates is not None:
        if args.replicates < 2:
            raise UsageError("--replicates needs 2 or more")
        return [spec.trainer.seed + i for i in range(args.replicates)]
    try:
        seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    except ValueError:
        raise UsageError(
            f"--seeds {args.seeds!r}: give whole numbers separated by commas, e.g. 0,1,2"
        ) from None
    if len(seeds) < 2 or len(set(seeds)) != len(seeds) or min(seeds) < 0:
        raise UsageError(f"--seeds {args.seeds!r}: give two or more different seeds, 0 or more")
    return seeds


def fold_count(args: argparse.Namespace, spec) -> int | None:
    """`--folds K`: how many folds to train, or None."""
    if args.folds is None:
        return None
    if args.resume or args.dry_run or args.nproc_per_node or spec is None:
        raise UsageError("--folds trains a SPEC, on one process, without --resume or --dry-run")
    if args.folds < 2:
        raise UsageError("--folds needs 2 or more")
    if spec.dataset.validation is not None:
        raise UsageError(
            "--folds validates on folds of the training data, and the spec gives validation data: "
            "remove dataset.validation to cross-validate"
        )
    return args.folds
