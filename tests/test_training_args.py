"""The spec -> TrainingArguments mapping, field by field."""

from __future__ import annotations

from pathlib import Path

import pytest

from peftspec.build.training_args import build_training_arguments, training_arguments_kwargs
from peftspec.spec import load_spec
from tests.conftest import MINIMAL

TRAINER = """
[trainer]
epochs = 4
batch_size = 8
eval_batch_size = 24
gradient_accumulation_steps = 8
learning_rate = 1e-4
lr_scheduler = "cosine"
warmup_ratio = 0.05
optimizer = "paged_adamw_32bit"
weight_decay = 0.1
max_grad_norm = 0.5
precision = "bf16"
gradient_checkpointing = true
eval_strategy = "steps"
eval_steps = 20
save_steps = 40
save_total_limit = 3
best_metric = "jaccard"
seed = 7
group_by_length = false
torch_compile = true
logging_steps = 5
dataloader_workers = 2
"""

EXPECTED = {
    "num_train_epochs": 4.0,
    "max_steps": -1,
    "per_device_train_batch_size": 8,
    "per_device_eval_batch_size": 24,
    "gradient_accumulation_steps": 8,
    "learning_rate": 1e-4,
    "lr_scheduler_type": "cosine",
    "warmup_steps": 0.05,
    "optim": "paged_adamw_32bit",
    "weight_decay": 0.1,
    "max_grad_norm": 0.5,
    "bf16": True,
    "fp16": False,
    "gradient_checkpointing": True,
    "gradient_checkpointing_kwargs": {"use_reentrant": False},
    "eval_strategy": "steps",
    "eval_steps": 20,
    "save_strategy": "steps",
    "save_steps": 40,
    "save_total_limit": 3,
    "load_best_model_at_end": True,
    "metric_for_best_model": "jaccard",
    "greater_is_better": True,
    "seed": 7,
    "data_seed": 7,
    "train_sampling_strategy": "random",
    "torch_compile": False,  # peftspec compiles the blocks itself (build/compile.py)
    "logging_strategy": "steps",
    "logging_steps": 5,
    "dataloader_num_workers": 2,
    "dataloader_pin_memory": True,
    "dataloader_persistent_workers": True,
    "label_names": ["labels"],
    "report_to": "none",
    "disable_tqdm": True,
    "use_cpu": True,
}


@pytest.fixture
def trainer_spec(write_spec):
    return load_spec(write_spec(MINIMAL + TRAINER)).trainer


def test_every_field_is_mapped(trainer_spec, tmp_path: Path):
    kwargs = training_arguments_kwargs(trainer_spec, output_dir=tmp_path, precision="bf16", use_cpu=True)
    assert kwargs.pop("output_dir") == str(tmp_path)
    assert kwargs == EXPECTED


def test_transformers_accepts_the_mapping(trainer_spec, tmp_path: Path):
    pytest.importorskip("transformers")
    args = build_training_arguments(
        trainer_spec.model_copy(update={"optimizer": "adamw_torch"}),
        output_dir=tmp_path,
        precision="fp32",
        use_cpu=True,
    )
    assert (args.eval_steps, args.save_steps) == (20, 40)
    assert args.metric_for_best_model.removeprefix("eval_") == "jaccard"
    assert args.greater_is_better is True and args.gradient_accumulation_steps == 8


def test_warmup_steps_and_max_steps(write_spec, tmp_path: Path):
    spec = load_spec(write_spec(MINIMAL + "\n[trainer]\nwarmup_steps = 30\nmax_steps = 500\n"))
    kwargs = training_arguments_kwargs(spec.trainer, output_dir=tmp_path, precision="fp32", use_cpu=True)
    assert (kwargs["warmup_steps"], kwargs["max_steps"]) == (30, 500)


def test_loss_is_minimised_and_no_eval_means_no_best(write_spec, tmp_path: Path):
    spec = load_spec(write_spec(MINIMAL + '\n[trainer]\nbest_metric = "loss"\n'))
    kwargs = training_arguments_kwargs(spec.trainer, output_dir=tmp_path, precision="fp32", use_cpu=True)
    assert (kwargs["metric_for_best_model"], kwargs["greater_is_better"]) == ("loss", False)
    spec = load_spec(write_spec(MINIMAL + '\n[trainer]\neval_strategy = "no"\n'))
    kwargs = training_arguments_kwargs(spec.trainer, output_dir=tmp_path, precision="fp32", use_cpu=True)
    assert (kwargs["load_best_model_at_end"], kwargs["metric_for_best_model"]) == (False, None)
