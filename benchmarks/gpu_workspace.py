"""The benchmark's workspace: the texts (SemEval-2018 E-c tweets, or synthetic ones of their
lengths), a tokenizer trained on them in the family's style, a random checkpoint of the
workload's real config, and the overrides that point the spec at them; and the reference
notebook's pad-to-max_length."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEMEVAL = ROOT.parent / "shared" / "data" / "semeval2018_ec"
EMOTIONS = [
    "anger", "anticipation", "disgust", "fear", "joy", "love",
    "optimism", "pessimism", "sadness", "surprise", "trust",
]  # fmt: skip
SEMEVAL_WORD_QUANTILES = [1, 8, 11, 16, 20, 24, 29, 40]
"""Words per SemEval-2018 E-c training tweet at quantiles 0, 10, 25, 50, 75, 90, 99, 100%."""
QUANTILES = [0, 0.10, 0.25, 0.50, 0.75, 0.90, 0.99, 1.0]
SEMEVAL_ROWS = 7724


@dataclass
class Space:
    folder: Path
    overrides: list[str]
    """`--set` values that point the spec at the random checkpoint and the data."""
    config: object
    data_source: str
    flops_per_token: float
    """4N: forward and backward through frozen weights (N: non-embedding parameters)."""
    warmup: int
    """Optimizer steps of warm-up in every arm (`warmup_steps`), and its evaluation and save
    cadence."""


def synthetic_texts(n: int, seed: int = 0) -> list[str]:
    import numpy as np

    rng = np.random.default_rng(seed)
    words = [f"{a}{b}{c}" for a in "bcdfghklmnprstvz" for b in "aeiou" for c in "bdgklmnprst"]
    counts = np.interp(rng.random(n), QUANTILES, SEMEVAL_WORD_QUANTILES).round().astype(int)
    return [" ".join(rng.choice(words, size=k)) for k in counts]


SEMEVAL_FILES = ("2018-E-c-En-train.txt", "2018-E-c-En-dev.txt")


def write_data(folder: Path, rows: int, tiny: bool, data: Path | None) -> tuple[list[str], list[str], str]:
    """(overrides, texts, where the texts come from). With `data` (a folder holding SemEval-2018
    E-c's train and dev files) the real tweets: all of them, or the first `rows` in tiny mode;
    else synthetic texts of the tweets' lengths with random labels."""
    import numpy as np

    if data is not None:
        import polars as pl

        missing = [name for name in SEMEVAL_FILES if not (data / name).is_file()]
        if missing:
            raise SystemExit(f"--data {data}: no {', '.join(missing)} there")
        if not tiny:
            paths = [str((data / name).resolve()) for name in SEMEVAL_FILES]
            texts = [t for p in paths for t in pl.read_csv(p, separator="\t", quote_char=None)["Tweet"]]
            return [f"dataset.train={json.dumps(paths)}"], texts, f"SemEval-2018 E-c ({len(texts)} tweets)"
        frame = pl.read_csv(data / SEMEVAL_FILES[0], separator="\t", quote_char=None).head(rows)
        path = folder / "train.tsv"
        frame.write_csv(path, separator="\t", quote_style="never")
        texts = frame["Tweet"].to_list()
        return [f"dataset.train={json.dumps([str(path)])}"], texts, f"SemEval-2018 E-c (first {rows} tweets)"
    texts = synthetic_texts(rows)
    rng = np.random.default_rng(1)
    labels = rng.random((rows, len(EMOTIONS))) < 0.2
    path = folder / "train.tsv"
    lines = ["\t".join(["ID", "Tweet", *EMOTIONS])]
    lines += ["\t".join([f"s{i}", text, *(str(int(v)) for v in labels[i])]) for i, text in enumerate(texts)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    source = f"synthetic, SemEval tweet lengths ({rows} rows)"
    return [f"dataset.train={json.dumps([str(path)])}"], texts, source


def warmup_steps(args, spec) -> int:
    """`--warmup` micro-batches as optimizer steps (at least 2): Qwen's 8 x 8 warms up in 2 steps,
    not 10 (80 micro-batches); the process's caches are filled before the arms (`warm_up`)."""
    return max(2, -(-args.warmup // spec.trainer.gradient_accumulation_steps))


def workspace(name: str, folder: Path, args) -> Space:
    """A random checkpoint of the workload's real config (toy-sized with `--tiny`) and its
    tokenizer in one folder, the data, and the overrides that point the spec at both."""
    import torch
    from transformers import AutoModelForSequenceClassification

    from peftspec.check.toy import family_of_backbone, shrink
    from peftspec.check.toy_tokenizer import save_tokenizer, train_tokenizer
    from peftspec.plan.families import config_for
    from peftspec.spec import load_spec

    spec = load_spec(ROOT / "specs" / f"{name}.toml")
    data_overrides, texts, source = write_data(
        folder, 240 if args.tiny else SEMEVAL_ROWS, args.tiny, args.data
    )
    config = config_for(spec.backbone.model)
    family = family_of_backbone(spec.backbone, config)
    tokenizer = train_tokenizer(
        family.tokenizer_style,
        family.specials,
        family.template,
        texts,
        vocab_size=1000 if args.tiny else 8000,
    )
    if args.tiny:
        shrink(config, tokenizer)
    else:
        config.vocab_size = max(config.vocab_size, len(tokenizer))
        for role in ("pad", "bos", "eos"):
            if hasattr(config, f"{role}_token_id"):
                setattr(config, f"{role}_token_id", getattr(tokenizer, f"{role}_token_id", None))
    model_dir = folder / "model"
    device = "cuda" if torch.cuda.is_available() else "cpu"
    dtype = torch.bfloat16 if spec.backbone.dtype == "bfloat16" else torch.float32
    config.num_labels = len(EMOTIONS)
    with torch.device(device):
        model = AutoModelForSequenceClassification.from_config(config, dtype=dtype)
    model.save_pretrained(model_dir)
    n = sum(p.numel() for n_, p in model.named_parameters() if "embed" not in n_ and "score" not in n_)
    del model
    if device == "cuda":
        torch.cuda.empty_cache()
    save_tokenizer(tokenizer, model_dir, family.specials)
    warmup = warmup_steps(args, spec)  # and an evaluation and a save as early in every arm
    overrides = [
        *data_overrides,
        f'backbone.model="{model_dir}"',
        f"trainer.eval_steps={warmup}",
        f"trainer.save_steps={warmup}",
        'tracking.wandb.mode="disabled"',
    ]
    return Space(folder, overrides, config, source, 4.0 * n, warmup)


def pad_to_max_length(dataset, tokenizer, max_length: int):
    """The notebook's tokenisation: every row padded to max_length."""
    pad = tokenizer.pad_token_id

    def pad_row(row):
        missing = max_length - len(row["input_ids"])
        return {
            "input_ids": row["input_ids"] + [pad] * missing,
            "attention_mask": row["attention_mask"] + [0] * missing,
        }

    return dataset.map(pad_row, desc="padding to max_length")
