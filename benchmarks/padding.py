"""How much of each batch is padding, as peftspec batches a spec's data: the most that padding-free
(packed) batches could save, measured on the CPU in seconds, for any spec whose tokenizer loads.

    python benchmarks/padding.py specs/semeval_ec.toml
    python benchmarks/padding.py specs/gemma_lora.toml --set 'backbone.tokenizer="/path/to/tokenizer"'
    python benchmarks/padding.py specs/semeval_ec.toml --json benchmarks/results/padding-semeval.json

The spec's training split is tokenised as `peftspec run` tokenises it (`to_dataset`, truncated
at `dataset.max_length`) and batched as the Trainer batches it: with `trainer.group_by_length`
(the default) by transformers' own `LengthGroupedSampler` over the spec's batch x accumulation,
each micro-batch a slice of `batch_size` rows; without it, in random order. The validation split
is batched as peftspec's prediction batches it: longest first, `eval_batch_size` rows at a time.
Each batch pads to its longest row, with no rounding (a CPU) and rounded up to a multiple of 8 (a
GPU, `peftspec.build.tokenize.GPU_PAD_MULTIPLE`). The reference notebook's way pads every row to
`max_length`. A share of padded positions is what packing could save at most, in positions; in
time it saves less, since a batch's cost is not all per position (kernel launches, the optimizer,
the head) and packed attention over a block-diagonal mask is not free.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def padding_share(lengths, batches, multiple: int = 1) -> float:
    """The share of padded positions over batches (lists of row indices) that each pad to their
    longest row rounded up to `multiple`."""
    real = padded = 0
    for batch in batches:
        if not len(batch):
            continue
        widths = [int(lengths[i]) for i in batch]
        real += sum(widths)
        padded += -(-max(widths) // multiple) * multiple * len(widths)
    return 1 - real / padded if padded else 0.0


def training_batches(lengths, batch_size: int, accumulation: int, grouped: bool, seed: int) -> list:
    """One epoch's micro-batches as the Trainer draws them (one process)."""
    import torch
    from transformers.trainer_pt_utils import LengthGroupedSampler

    generator = torch.Generator().manual_seed(seed)
    if grouped:
        sampler = LengthGroupedSampler(
            batch_size * accumulation, lengths=list(map(int, lengths)), generator=generator
        )
        order = list(sampler)
    else:
        order = torch.randperm(len(lengths), generator=generator).tolist()
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def evaluation_batches(lengths, batch_size: int) -> list:
    """Longest first, as `peftspec.build.predict` batches a split."""
    from peftspec.build.predict import longest_first

    order = longest_first(lengths).tolist()
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def measure(spec, seeds: int = 3) -> dict:
    import numpy as np

    from peftspec.build.data import load_data
    from peftspec.build.model import build_tokenizer
    from peftspec.build.tokenize import GPU_PAD_MULTIPLE, to_dataset

    bundle = load_data(spec.dataset)
    tokenizer, _ = build_tokenizer(spec.backbone)
    trainer, max_length = spec.trainer, spec.dataset.max_length
    lengths = {
        split.name: np.array(
            [len(ids) for ids in to_dataset(split, tokenizer, max_length, bundle.task)["input_ids"]]
        )
        for split in bundle.splits()
        if split.name in ("train", "validation")
    }
    train = lengths["train"]
    batch, accumulation = trainer.batch_size, trainer.gradient_accumulation_steps
    rows = []
    for multiple in (1, GPU_PAD_MULTIPLE):
        shares = [
            padding_share(
                train, training_batches(train, batch, accumulation, trainer.group_by_length, seed), multiple
            )
            for seed in range(seeds)
        ]
        rows.append(
            {
                "batches": "training",
                "order": "grouped" if trainer.group_by_length else "random",
                "rows_per_batch": batch,
                "pad_multiple": multiple,
                "padding_share": float(np.mean(shares)),
                "spread": float(np.max(shares) - np.min(shares)),
            }
        )
        if "validation" in lengths:
            eval_batch = trainer.eval_batch_size or 2 * batch
            rows.append(
                {
                    "batches": "evaluation",
                    "order": "by length",
                    "rows_per_batch": eval_batch,
                    "pad_multiple": multiple,
                    "padding_share": padding_share(
                        lengths["validation"], evaluation_batches(lengths["validation"], eval_batch), multiple
                    ),
                    "spread": 0.0,
                }
            )
    rows.append(
        {
            "batches": "training (notebook)",
            "order": "random",
            "rows_per_batch": batch,
            "pad_multiple": max_length,
            "padding_share": float(1 - train.mean() / max_length),
            "spread": 0.0,
        }
    )
    return {
        "spec": spec.name,
        "tokenizer": spec.backbone.tokenizer or spec.backbone.model,
        "train_rows": len(train),
        "tokens_per_row": {
            "mean": float(train.mean()),
            **{f"p{q}": float(np.percentile(train, q)) for q in (50, 90, 99)},
            "max": int(train.max()),
        },
        "max_length": max_length,
        "note": (
            'trainer.micro_batch = "auto": batched at the spec\'s batch_size x accumulation, not at the '
            "micro-batch the run will fit (set trainer.batch_size and gradient_accumulation_steps to it)"
            if trainer.micro_batch == "auto"
            else None
        ),
        "seeds": seeds,
        "rows": rows,
    }


def show(result: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    tokens = result["tokens_per_row"]
    table = Table(
        title=f"{result['spec']}: padded positions ({result['train_rows']:,} training rows, "
        f"{tokens['mean']:.1f} tokens per row on average, p99 {tokens['p99']:.0f}, max {tokens['max']})"
    )
    for column in ("batches", "order", "rows", "width rounded to", "padding", "spread"):
        table.add_column(column, justify="left" if column in ("batches", "order") else "right")
    for row in result["rows"]:
        multiple = row["pad_multiple"]
        table.add_row(
            row["batches"],
            row["order"],
            str(row["rows_per_batch"]),
            f"max_length ({multiple})" if row["batches"].endswith("(notebook)") else str(multiple),
            f"{row['padding_share']:.1%}",
            f"{row['spread']:.1%}" if row["spread"] else "-",
        )
    console = Console()
    console.print(table)
    if result.get("note"):
        console.print(result["note"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("spec", type=Path)
    parser.add_argument(
        "--set", dest="overrides", action="append", default=[], help="key=value, as `peftspec run --set`"
    )
    parser.add_argument("--seeds", type=int, default=3, help="training epochs drawn (seeds), for the spread")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    from peftspec.spec import load_spec

    result = measure(load_spec(args.spec, args.overrides), args.seeds)
    show(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
