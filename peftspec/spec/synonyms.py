"""What other tools call peftspec's keys: HF `TrainingArguments`, PEFT's configs, bitsandbytes'
`BitsAndBytesConfig` and notebook habits. Users bring these names from the scripts they are
replacing; an unknown key that is one of them is answered with peftspec's key (and how its value
is written, where that differs) before any near miss by spelling, which for these names is often
wrong (`per_device_train_batch_size` is nearest to `eval_batch_size`)."""

from __future__ import annotations

from typing import NamedTuple


class KnownAs(NamedTuple):
    key: str
    """peftspec's key in the same table."""
    written: str | None = None
    """How the value is written in peftspec, where it is not the other tool's value as it is."""


SYNONYMS: dict[str, dict[str, KnownAs]] = {
    "dataset": {
        "max_seq_length": KnownAs("max_length"),
        "max_seq_len": KnownAs("max_length"),
        "text_field": KnownAs("text_column"),
        "text_col": KnownAs("text_column"),
        "train_file": KnownAs("train"),
        "validation_file": KnownAs("validation"),
        "test_file": KnownAs("test"),
        "test_size": KnownAs("validation_split", "validation_split = 0.2 (the share held out)"),
        "seed": KnownAs(
            "split_seed", "split_seed = N (the validation hold-out's; training's is trainer.seed)"
        ),
    },
    "dataset.reader": {
        "delimiter": KnownAs("separator"),
        "sep": KnownAs("separator"),
        "header": KnownAs("has_header"),
    },
    "dataset.labels": {
        "separator": KnownAs("delimiter"),
        "sep": KnownAs("delimiter"),
        "label_column": KnownAs("column"),
        "label_columns": KnownAs("columns"),
        "label_names": KnownAs("names"),
    },
    "backbone": {
        "model_name_or_path": KnownAs("model"),
        "pretrained_model_name_or_path": KnownAs("model"),
        "model_name": KnownAs("model"),
        "model_id": KnownAs("model"),
        "tokenizer_name": KnownAs("tokenizer"),
        "torch_dtype": KnownAs("dtype"),
        "attn_implementation": KnownAs("attention"),
    },
    "adapter": {
        "peft_type": KnownAs("kind", 'kind = "lora" (or "ia3", "adalora", ...)'),
        "lora_r": KnownAs("r"),
        "rank": KnownAs("r"),
        "lora_alpha": KnownAs("alpha"),
        "lora_dropout": KnownAs("dropout"),
        "target": KnownAs("target_modules"),
    },
    "quantization": {
        "load_in_4bit": KnownAs("method", 'method = "bnb-4bit"'),
        "load_in_8bit": KnownAs("method", 'method = "bnb-8bit"'),
        "bnb_4bit_quant_type": KnownAs("quant_type"),
        "bnb_4bit_use_double_quant": KnownAs("double_quant"),
        "bnb_4bit_compute_dtype": KnownAs("compute_dtype"),
        "bnb_4bit_quant_storage": KnownAs("storage_dtype"),
        "llm_int8_skip_modules": KnownAs("skip_modules"),
        "llm_int8_threshold": KnownAs("threshold"),
    },
    "trainer": {
        "num_train_epochs": KnownAs("epochs"),
        "num_epochs": KnownAs("epochs"),
        "per_device_train_batch_size": KnownAs("batch_size"),
        "train_batch_size": KnownAs("batch_size"),
        "per_device_eval_batch_size": KnownAs("eval_batch_size"),
        "gradient_accumulation": KnownAs("gradient_accumulation_steps"),
        "lr": KnownAs("learning_rate"),
        "lr_scheduler_type": KnownAs("lr_scheduler"),
        "warmup": KnownAs("warmup_ratio", "warmup_ratio = 0.1 (a share of the steps) or warmup_steps = N"),
        "optim": KnownAs("optimizer"),
        "bf16": KnownAs("precision", 'precision = "bf16"'),
        "fp16": KnownAs("precision", 'precision = "fp16"'),
        "evaluation_strategy": KnownAs("eval_strategy"),
        "metric_for_best_model": KnownAs("best_metric"),
        "greater_is_better": KnownAs("best_direction", 'best_direction = "max" (or "min")'),
        "early_stopping_patience": KnownAs("early_stopping", "[trainer.early_stopping] patience = N"),
        "dataloader_num_workers": KnownAs("dataloader_workers"),
        "num_workers": KnownAs("dataloader_workers"),
        "auto_find_batch_size": KnownAs("micro_batch", 'micro_batch = "auto" (keeps the effective batch)'),
    },
}
"""Per table (dotted, without list indices): another tool's key -> peftspec's."""


def known_as(table: str, key: str) -> KnownAs | None:
    """peftspec's key for `key`, another tool's name for it in the table `table` (e.g. `trainer`)."""
    return SYNONYMS.get(table, {}).get(key.lower())


def known_elsewhere(key: str) -> tuple[str, KnownAs] | None:
    """(table, peftspec's key) for another tool's name that belongs in one other table (an SFT
    script's `max_seq_length` under [trainer] is `max_length` in [dataset]); None when none or
    several tables know it."""
    found = [(table, names[key.lower()]) for table, names in SYNONYMS.items() if key.lower() in names]
    return found[0] if len(found) == 1 else None


def peftspec_name(table: str, key: str, elsewhere: bool = True) -> tuple[str, KnownAs] | None:
    """(table, peftspec's key) for another tool's name `key` met in `table`: that table's own key,
    else (with `elsewhere`) the key of the one other table that knows the name."""
    known = known_as(table, key)
    if known is not None:
        return table, known
    return known_elsewhere(key) if elsewhere else None


VALUE_SYNONYMS: dict[str, dict[str, str]] = {
    "precision": {"bfloat16": "bf16", "float16": "fp16", "half": "fp16", "float32": "fp32", "float": "fp32"},
    "dtype": {
        "bf16": "bfloat16",
        "fp16": "float16",
        "half": "float16",
        "fp32": "float32",
        "float": "float32",
    },
    "compute_dtype": {"bf16": "bfloat16", "fp16": "float16", "fp32": "float32"},
    "storage_dtype": {"bf16": "bfloat16", "fp16": "float16", "fp32": "float32"},
    "pooling": {
        "avg": "mean",
        "average": "mean",
        "mean_pooling": "mean",
        "first": "cls",
        "last_token": "last",
        "eos": "last",
    },
    "optimizer": {
        "adamw": "adamw_torch_fused",
        "adam": "adamw_torch_fused",
        "adamw_hf": "adamw_torch",
        "adamw_bnb_8bit": "adamw_8bit",
    },
    "lr_scheduler": {
        "cosine_annealing": "cosine",
        "cosineannealing": "cosine",
        "linear_warmup": "linear",
        "none": "constant",
    },
    "attention": {
        "flash": "flash_attention_2",
        "flash_attn": "flash_attention_2",
        "fa2": "flash_attention_2",
        "spda": "sdpa",
    },
    "method": {
        "qlora": "bnb-4bit",
        "4bit": "bnb-4bit",
        "nf4": "bnb-4bit",
        "int4": "bnb-4bit",
        "8bit": "bnb-8bit",
        "int8": "bnb-8bit",
        "llm_int8": "bnb-8bit",
    },
    "kind": {"qlora": "lora", "dora": "lora", "full": "none", "full_finetuning": "none", "(ia)3": "ia3"},
    "task": {  # HF's `problem_type` and habit: "multi_label" is the nearest spelling, and wrong
        "single_label": "multi_class",
        "single_label_classification": "multi_class",
        "multiclass": "multi_class",
        "multi_label_classification": "multi_label",
        "multilabel": "multi_label",
        "binary_classification": "binary",
    },
    "eval_strategy": {"epochs": "epoch", "step": "steps", "none": "no"},
    "save_strategy": {"epochs": "epoch", "step": "steps", "none": "no"},
}
"""Per key name: another tool's (or habit's) value -> peftspec's, offered as the did-you-mean of a
value that is not allowed (`optimizer = "adamw"` is `adamw_torch_fused`, not the nearest spelling,
`adamw_8bit`)."""


def value_known_as(key: str, value: object) -> str | None:
    """peftspec's value for `value` of the key named `key`, where another tool names it so."""
    return VALUE_SYNONYMS.get(key, {}).get(str(value).strip().lower())
