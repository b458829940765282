"""Beyond one process: the [distributed] rules, the Trainer arguments, and real DDP on CPU (gloo):
2 processes on one node, and 2 nodes of 1 process each on 127.0.0.1."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from peftspec.build.training_args import distributed_kwargs
from peftspec.runs import read_run
from peftspec.spec import check_spec
from peftspec.spec.distributed import DistributedSpec
from tests.conftest import MINIMAL
from tests.helpers.specs import make_tiny_workspace, write_tiny_lora_spec

RULES = {
    "fsdp-8bit": ('[quantization]\nmethod = "bnb-8bit"', "fsdp", "quantization.method"),
    "fsdp-4bit-storage": (
        '[quantization]\nmethod = "bnb-4bit"\ncompute_dtype = "bfloat16"',
        "fsdp",
        "quantization.storage_dtype",
    ),
    "fsdp-orig-params": (
        "[distributed.fsdp]\nuse_orig_params = false",
        "fsdp",
        "distributed.fsdp.use_orig_params",
    ),
    "ddp-checkpointing": (
        "[trainer]\ngradient_checkpointing = true\n[distributed]\nfind_unused_parameters = true",
        "ddp",
        "distributed.find_unused_parameters",
    ),
}


def _with_strategy(extra: str, strategy: str) -> str:
    if "[distributed]" in extra:
        return extra.replace("[distributed]", f'[distributed]\nstrategy = "{strategy}"')
    return f'{extra}\n[distributed]\nstrategy = "{strategy}"\nprocesses_per_node = 2'


@pytest.mark.parametrize("case", sorted(RULES))
def test_known_bad_distributed_combinations_are_errors_at_their_key(case, write_spec):
    extra, strategy, path = RULES[case]
    report = check_spec(write_spec(MINIMAL + _with_strategy(extra, strategy)))
    assert report.spec is None
    assert [d.path for d in report.errors] == [path]


def test_the_fixes_pass(write_spec):
    fixed = '[quantization]\nmethod = "bnb-4bit"\ncompute_dtype = "bfloat16"\nstorage_dtype = "bfloat16"'
    assert check_spec(write_spec(MINIMAL + _with_strategy(fixed, "fsdp"))).spec is not None
    several = MINIMAL + "[distributed]\nprocesses_per_node = 2"
    (d,) = check_spec(write_spec(several)).errors
    assert d.path == "distributed.strategy" and d.suggestion == "ddp"


def test_trainer_arguments_for_ddp_and_fsdp():
    assert distributed_kwargs(DistributedSpec(), use_cpu=True) == {}
    assert distributed_kwargs(DistributedSpec(strategy="ddp"), use_cpu=True) == {
        "ddp_find_unused_parameters": False,
        "ddp_backend": "gloo",
        "average_tokens_across_devices": False,
    }
    fsdp = DistributedSpec(strategy="fsdp", fsdp={"sharding": "hybrid_shard", "cpu_offload": True})
    assert distributed_kwargs(fsdp, use_cpu=False) == {
        "fsdp": "hybrid_shard auto_wrap offload",
        "fsdp_config": {"use_orig_params": True},
        "ddp_find_unused_parameters": False,
        "ddp_backend": None,
        "average_tokens_across_devices": False,
    }


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    """The tiny workspace, with one test row holding a training row's text (a data warning)."""
    root = make_tiny_workspace(tmp_path_factory.mktemp("ddp"))
    train, test = ((root / f"{name}.csv").read_text().splitlines() for name in ("train", "test"))
    test[1] = ",".join([test[1].split(",")[0], train[1].split(",")[1], *test[1].split(",")[2:]])
    (root / "test.csv").write_text("\n".join(test) + "\n")
    return root


def write(workspace: Path, name: str, batch_size: int, strategy: str = "none") -> Path:
    trainer = f"epochs = 4\nbatch_size = {batch_size}\nlearning_rate = 2e-2\n"
    trainer += "group_by_length = false\nlogging_steps = 1"
    tail = f'[distributed]\nstrategy = "{strategy}"'
    return write_tiny_lora_spec(workspace, name, dropout=0.0, trainer=trainer, tail=tail)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def peftspec(workspace: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")} | (env or {})
    return subprocess.Popen(
        [sys.executable, "-m", "peftspec", "run", *args],
        cwd=workspace,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen) -> str:
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err[-4000:]
    return out


def only_run(workspace: Path, name: str) -> Path:
    runs = sorted((workspace / f"runs-{name}").iterdir())
    assert len(runs) == 1, runs  # exactly one run directory, written by rank 0
    return runs[0]


def scores(run: Path, split: str) -> dict:
    evaluation = json.loads((run / "eval.json").read_text())
    return {k: v for k, v in evaluation[split].items() if isinstance(v, float) and "second" not in k}


@pytest.fixture(scope="module")
def single(workspace) -> Path:
    finish(peftspec(workspace, str(write(workspace, "single", batch_size=16))))
    return only_run(workspace, "single")


def check_two_ranks(run: Path, single: Path, nodes: bool = False) -> None:
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "completed" and info["world_size"] == 2
    dist = info["distributed"]
    assert dist["strategy"] == "ddp" and dist["world_size"] == 2 and len(dist["ranks"]) == 2
    assert [r["rows_first_epoch"] for r in dist["ranks"]] == [64, 64]  # each rank saw half of 128
    assert dist["rows_shared_by_ranks"] == 0 and dist["rows_covered"] == 128
    assert dist["ranks"][0]["weights_sha256"] == dist["ranks"][1]["weights_sha256"]  # gradients in sync
    # the plan counts steps as the ranks take them: 2 x 8 rows a step, 8 steps an epoch, 4 epochs
    overview = info["overview"]
    assert overview["device"].endswith("; 2 processes" + (" on 2 nodes" if nodes else "") + ", ddp")
    assert (overview["effective_batch"], overview["steps_per_epoch"]) == (16, 8)
    assert overview["total_steps"] == info["max_steps"] == 32
    # 2 processes x 8 rows per step against 1 x 16: the same global batch, though the distributed
    # sampler deals the rows in another order, so the runs agree closely, not bitwise
    for split in ("validation", "test"):
        ours, theirs = scores(run, split), scores(single, split)
        assert abs(ours["loss"] - theirs["loss"]) <= 0.01 * theirs["loss"], (split, ours, theirs)
        for name in ("f1_micro", "f1_macro", "jaccard"):
            assert abs(ours[name] - theirs[name]) <= 0.02, (split, name, ours[name], theirs[name])


EXIT_PROBE = """
import atexit, gc, json, os, sys

def _probe():  # registered first, so it runs last: what each rank still holds as it exits
    dist = sys.modules.get("torch.distributed")
    if dist is None or "RANK" not in os.environ:
        return
    from torch.nn.parallel import DistributedDataParallel
    state = {
        "group": dist.is_initialized(),
        "ddp": sum(isinstance(o, DistributedDataParallel) for o in gc.get_objects()),
    }
    with open(os.path.join(os.environ["EXIT_PROBE_DIR"], "rank" + os.environ["RANK"]), "w") as f:
        json.dump(state, f)

atexit.register(_probe)
"""


def exit_probe(folder: Path) -> dict[str, str]:
    """The environment that makes each rank record, as it exits, what it still holds (in `folder`)."""
    (folder / "sitecustomize.py").write_text(EXIT_PROBE)
    return {"PYTHONPATH": str(folder), "EXIT_PROBE_DIR": str(folder)}


def check_ranks_left_the_group(folder: Path) -> None:
    """Each rank left the process group and dropped its DDP wrapper before exiting: torn down during
    interpreter exit instead, gloo aborts a rank now and then ("terminate called without an active
    exception"), and torchrun reports a completed run as failed."""
    for rank in ("rank0", "rank1"):
        assert json.loads((folder / rank).read_text()) == {"group": False, "ddp": 0}, rank


def test_two_processes_on_one_node_train_as_one_run(workspace, single, tmp_path):
    probe = exit_probe(tmp_path)
    spec = write(workspace, "ddp2", batch_size=8, strategy="ddp")
    port = str(free_port())
    out = finish(peftspec(workspace, str(spec), "--nproc-per-node", "2", "--master-port", port, env=probe))
    assert out.count("Final evaluation") == 1  # only rank 0 reports
    assert out.count("have the text of a training row") == 2  # rank 0 warns before training and after
    check_two_ranks(only_run(workspace, "ddp2"), single)
    check_ranks_left_the_group(tmp_path)


def test_two_nodes_of_one_process_each(workspace, single):
    spec = write(workspace, "nodes2", batch_size=8, strategy="ddp")
    port = str(free_port())
    common = ["--nnodes", "2", "--nproc-per-node", "1", "--master-addr", "127.0.0.1", "--master-port", port]
    nodes = [peftspec(workspace, str(spec), *common, "--node-rank", str(rank)) for rank in (0, 1)]
    outputs = [finish(p) for p in nodes]
    assert sum(o.count("Final evaluation") for o in outputs) == 1
    check_two_ranks(only_run(workspace, "nodes2"), single, nodes=True)


def launch_with_fault(workspace: Path, spec: Path, fault: str) -> subprocess.CompletedProcess:
    """`peftspec run SPEC --nproc-per-node 2` with `PEFTSPEC_FAULT=fault` (outside any torchrun)."""
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    env["PEFTSPEC_FAULT"] = fault
    port = str(free_port())
    return subprocess.run(
        [sys.executable, "-m", "peftspec", "run", str(spec), "--nproc-per-node", "2", "--master-port", port],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_a_failure_on_any_rank_marks_the_run_failed_with_that_ranks_error(workspace):
    spec = write(workspace, "rankfail", batch_size=8, strategy="ddp")
    proc = launch_with_fault(workspace, spec, "raise:3@1")  # rank 1 raises at the end of step 3
    assert proc.returncode == 1
    info = json.loads((only_run(workspace, "rankfail") / "run.json").read_text())
    assert info["status"] == "failed"
    assert info["error"]["rank"] == 1 and info["error"]["type"] == "InjectedFailure"
    assert "injected failure at step 3 on rank 1" in info["error"]["message"]


def test_a_killed_rank_0_leaves_the_run_failed_not_running(workspace):
    """Rank 0 dies by SIGKILL before it can record anything: the launcher marks the run failed."""
    spec = write(workspace, "rank0kill", batch_size=8, strategy="ddp")
    proc = launch_with_fault(workspace, spec, "step:3@0")  # rank 0 killed before step 3's update
    assert proc.returncode != 0
    record = read_run(only_run(workspace, "rank0kill")).record
    assert record.status == "failed" and record.ended_at is not None
    assert record.error is not None and record.error.message, record.error


@pytest.mark.slow  # four 2-process launches, about 2 minutes: CI runs it (`pytest -m slow`)
def test_a_killed_two_process_run_resumes_under_torchrun_to_the_same_run(workspace, tmp_path):
    from safetensors.torch import load_file

    def launch(
        name: str, *extra: str, fault: str | None = None, probe: bool = False
    ) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
        env.pop("PEFTSPEC_FAULT", None)
        if probe:
            env.update(exit_probe(tmp_path))
        if fault:
            env["PEFTSPEC_FAULT"] = fault
        args = ["--nproc-per-node", "2", "--master-port", str(free_port()), *extra]
        return subprocess.run(
            [sys.executable, "-m", "peftspec", "run", *args],
            cwd=workspace,
            env=env,
            capture_output=True,
            text=True,
        )

    def with_checkpoints(name: str) -> Path:
        trainer = (
            "epochs = 2\nbatch_size = 8\nlearning_rate = 2e-2\ngroup_by_length = false\nlogging_steps = 1\n"
        )
        trainer += 'eval_strategy = "steps"\neval_steps = 4\nsave_steps = 4\nsave_total_limit = 10'
        return write_tiny_lora_spec(
            workspace, name, dropout=0.0, trainer=trainer, tail='[distributed]\nstrategy = "ddp"'
        )

    whole = launch("whole", str(with_checkpoints("whole")))
    assert whole.returncode == 0, whole.stderr[-3000:]
    killed = launch("cut", str(with_checkpoints("cut")), fault="step:6")  # both ranks die mid-step 6
    assert killed.returncode != 0
    run = only_run(workspace, "cut")
    resumed = launch("cut", "--resume", str(run))
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "completed" and info["resumed"][0]["from_step"] == 4
    assert info["distributed"]["world_size"] == 2
    a = load_file(only_run(workspace, "whole") / "adapter" / "adapter_model.safetensors")
    b = load_file(run / "adapter" / "adapter_model.safetensors")
    import torch

    assert all(torch.equal(a[k], b[k]) for k in a)  # the same training, resumed on 2 processes
    # nothing left to resume: rank 0 says so and releases rank 1; both leave the process group
    again = launch("cut", "--resume", str(run), probe=True)
    assert again.returncode == 0 and "already completed; nothing to resume" in again.stdout, again.stderr
    check_ranks_left_the_group(tmp_path)


@pytest.mark.parametrize(
    ("size", "local", "strategy", "on_gpu", "line"),
    [
        (1, 1, "none", False, None),
        (2, 2, "ddp", False, "2 processes, ddp"),
        (16, 8, "fsdp", True, "16 processes on 2 nodes, fsdp full_shard"),
        (2, 2, "fsdp", False, "2 processes, ddp: fsdp shards over CUDA GPUs only"),
    ],
)
def test_the_plan_says_how_many_processes_train_and_how(size, local, strategy, on_gpu, line):
    from peftspec.build.environment import World
    from peftspec.build.overview import processes_line

    said = processes_line(DistributedSpec(strategy=strategy), World(0, size, 0, local), on_gpu)
    assert said == line if line is None else said.startswith(line)


def test_weights_assembled_from_shards_are_the_ones_saved(workspace):
    """Under FSDP each rank's own parameters are a shard: rank 0 saves the full weights the ranks
    assembled (`TrainingSession.gather_weights`), not what its model holds."""
    import torch

    from peftspec.build.compiled import compile_run
    from peftspec.build.model import save_trained
    from peftspec.spec import load_spec

    compiled = compile_run(load_spec(write(workspace, "gathered", batch_size=8)))
    parts = compiled.build_model()
    state = {k: torch.full_like(v, 0.5) if "lora_A" in k else v for k, v in parts.model.state_dict().items()}
    folder = workspace / "gathered-weights"
    save_trained(parts.model, parts.tokenizer, folder, state)
    reloaded, _ = compiled.reload(folder, parts.added_pad_token, parts.pooling)
    lora = [p for n, p in reloaded.named_parameters() if "lora_A" in n]
    assert lora and all(torch.all(p == 0.5) for p in lora)
