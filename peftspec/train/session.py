"""One training session: the HF Trainer wired to the run directory, progress display and W&B."""

from __future__ import annotations

import os
from typing import Any

from peftspec.train.callbacks import CheckpointMarker, ProgressDisplay, RunRecorder, WandbSink
from peftspec.build.data import DataBundle
from peftspec.metrics.evaluation import FinalEvaluation, evaluate_split, predictions_frame, thresholds_for
from peftspec.train.faults import ENV as FAULT_ENV
from peftspec.train.faults import FaultPoints
from peftspec.train.interrupt import StopOnSignal, StopRequest
from peftspec.metrics.scoring import MetricComputer, scores_from_logits
from peftspec.build.model import BuiltModel, save_trained
from peftspec.build.tokenize import collator, to_dataset
from peftspec.runs.writer import RunWriter
from peftspec.spec.root import Spec


class TrainingSession:
    def __init__(
        self,
        spec: Spec,
        bundle: DataBundle,
        built: BuiltModel,
        precision: str,
        writer: RunWriter,
        console,
        stop: StopRequest | None = None,
    ):
        self.spec, self.bundle, self.built, self.writer, self.console = spec, bundle, built, writer, console
        self.precision, self.stop = precision, stop
        self.datasets = {
            s.name: to_dataset(s, built.tokenizer, spec.dataset.max_length, bundle.task)
            for s in bundle.splits()
        }
        self.computer = MetricComputer(spec.metrics.names or [], bundle.task, bundle.label_names)
        self.wandb_run = _start_wandb(spec, writer)
        self.trainer = self._trainer(precision)

    def _trainer(self, precision: str):
        import torch
        from transformers import EarlyStoppingCallback, PrinterCallback, ProgressCallback, Trainer

        from peftspec.build.training_args import build_training_arguments

        args = build_training_arguments(
            self.spec.trainer,
            output_dir=self.writer.paths.checkpoints,
            precision=precision,
            use_cpu=not torch.cuda.is_available(),
            distributed=self.spec.distributed,
        )
        progress = ProgressDisplay(self.console, self.spec.trainer.best_metric)
        sinks = [progress] + ([WandbSink(self.wandb_run)] if self.wandb_run is not None else [])
        callbacks = [
            RunRecorder(self.writer, self.computer, sinks),
            progress,
            CheckpointMarker(),
        ]
        if os.environ.get(FAULT_ENV):  # the resume tests' fault injection; never in a normal run
            callbacks.append(FaultPoints())
        if self.stop is not None:
            callbacks.append(StopOnSignal(self.stop))
        early = self.spec.trainer.early_stopping
        if early is not None:
            callbacks.append(EarlyStoppingCallback(early.patience, early.threshold))
        trainer = Trainer(
            model=self.built.model,
            args=args,
            data_collator=collator(self.built.tokenizer),
            train_dataset=self.datasets["train"],
            eval_dataset=self.datasets.get("validation"),
            processing_class=self.built.tokenizer,
            compute_metrics=self.computer,
            callbacks=callbacks,
        )
        trainer.remove_callback(PrinterCallback)
        trainer.remove_callback(ProgressCallback)
        return trainer

    def train(self, resume_from: str | None = None) -> None:
        """Train (from a complete checkpoint when resuming: weights, optimizer, scheduler, RNG state
        and data position come back as they were)."""
        self.trainer.train(resume_from_checkpoint=resume_from)
        state = self.trainer.state
        self.writer.update_info(
            best={
                "metric": self.spec.trainer.best_metric,
                "value": state.best_metric,
                "step": _step_of(state.best_model_checkpoint),
                "checkpoint": os.path.relpath(state.best_model_checkpoint, self.writer.paths.root)
                if state.best_model_checkpoint
                else None,
            },
            steps=state.global_step,
        )

    def final_evaluation(self) -> dict[str, Any]:
        bundle, names = self.bundle, self.spec.metrics.names or []
        model, tokenizer = self.reload_saved()
        outputs = {
            name: self.predict(model, tokenizer, name)
            for name in ("validation", "test")
            if name in self.datasets
        }
        val_scores = scores_from_logits(outputs["validation"][0], bundle.task)
        thresholds = thresholds_for(self.spec.metrics.threshold, bundle, val_scores)
        final = FinalEvaluation(thresholds)
        for name, (logits, stats) in outputs.items():
            split = bundle.validation if name == "validation" else bundle.test
            final.results[name] = evaluate_split(split, logits, stats, bundle, names, thresholds)
            self.writer.log(
                {
                    "event": "final",
                    "split": name,
                    "step": self.trainer.state.global_step,
                    **final.results[name].metrics,
                }
            )
        paths = self.writer.paths
        self.writer.write_json(paths.eval, final.eval_json())
        self.writer.write_json(paths.confusion, final.confusion_json())
        self.writer.write_json(paths.thresholds, thresholds)
        frame = predictions_frame(final.results, bundle.task)
        tmp = paths.predictions.with_suffix(".parquet.tmp")
        frame.write_parquet(tmp)
        os.replace(tmp, paths.predictions)
        if self.wandb_run is not None:
            for name, result in final.results.items():
                self.wandb_run.summary.update(
                    {f"final/{name}/{k}": v for k, v in result.metrics.items() if isinstance(v, float)}
                )
        return final.eval_json()

    def predict(self, model, tokenizer, split: str) -> tuple:
        """Logits for a split, in the split's row order."""
        from peftspec.build.predict import predict

        result = predict(
            model,
            self.datasets[split],
            collator(tokenizer),
            self.spec.trainer.eval_batch_size,
            self.bundle.task,
        )
        return result.logits, result.stats()

    def reload_saved(self):
        """The model as saved in the run directory, after the training copy is released: the recorded
        predictions come from exactly the artifact that ships."""
        import gc

        import torch

        from peftspec.build.model import load_trained

        self.trainer.model = self.trainer.model_wrapped = None
        self.built.model = None
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        paths = self.writer.paths
        folder = paths.full_model if self.spec.adapter.kind == "none" else paths.adapter
        model, tokenizer = load_trained(
            self.spec, self.bundle.label_names, folder, self.built.added_pad_token, self.precision
        )
        if torch.cuda.is_available() and self.spec.quantization.method == "none":
            model = model.to("cuda")
        return model, tokenizer

    def save(self) -> None:
        paths = self.writer.paths
        folder = paths.full_model if self.spec.adapter.kind == "none" else paths.adapter
        save_trained(self.trainer.model, self.built.tokenizer, folder)

    def close(self) -> None:
        if self.wandb_run is not None:
            self.wandb_run.finish()


def _step_of(checkpoint: str | None) -> int | None:
    if not checkpoint:
        return None
    tail = os.path.basename(checkpoint.rstrip("/"))
    return int(tail.rsplit("-", 1)[-1]) if tail.rsplit("-", 1)[-1].isdigit() else None


def _start_wandb(spec: Spec, writer: RunWriter):
    """A W&B run when `[tracking.wandb]` is set; its id and URL go into run.json, never a key."""
    settings = spec.tracking.wandb
    if settings is None or settings.mode == "disabled":
        return None
    try:
        import wandb
    except ImportError:
        raise RuntimeError(
            "[tracking.wandb] is set but wandb is not installed: pip install 'peftspec[wandb]'"
        ) from None
    previous = (writer.info.get("wandb") or {}).get("id")  # a resumed run continues its W&B run
    run = wandb.init(
        id=previous,
        resume="allow" if previous else None,
        project=settings.project,
        entity=settings.entity,
        tags=settings.tags,
        group=settings.group,
        mode=settings.mode,
        name=writer.paths.name,
        config=spec.model_dump(mode="json"),
        notes=spec.description or None,
        reinit="finish_previous",
    )
    writer.update_info(
        wandb={
            "project": settings.project,
            "mode": settings.mode,
            "id": run.id,
            "url": getattr(run, "url", None),
        }
    )
    return run
