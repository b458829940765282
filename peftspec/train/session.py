"""One training session: the HF Trainer wired to the run directory, progress display and W&B."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from peftspec.build.compiled import CompiledRun, ModelParts
from peftspec.metrics.evaluation import (
    FinalEvaluation,
    evaluate_split,
    predictions_frame,
    temperature_record,
    thresholds_for,
)
from peftspec.metrics.scoring import scores_from_logits
from peftspec.runs.writer import RunWriter
from peftspec.train.callbacks import CheckpointMarker, CompileTimer, ProgressDisplay, RunRecorder, WandbSink
from peftspec.train.faults import ENV as FAULT_ENV
from peftspec.train.faults import FaultPoints
from peftspec.train.interrupt import StopOnSignal, StopRequest


class TrainingSession:
    def __init__(
        self,
        compiled: CompiledRun,
        parts: ModelParts,
        writer: RunWriter,
        console,
        stop: StopRequest | None = None,
    ):
        self.compiled, self.parts, self.writer, self.console, self.stop = (
            compiled,
            parts,
            writer,
            console,
            stop,
        )
        self.settings = compiled.settings
        self.wandb_run = _start_wandb(compiled, writer)
        self.trainer = self._trainer()

    def _trainer(self):
        from transformers import EarlyStoppingCallback, PrinterCallback, ProgressCallback

        from peftspec.train.evaluation import PeftspecTrainer

        settings, parts = self.settings, self.parts
        progress = ProgressDisplay(self.console, settings.best_metric)
        sinks = [progress] + ([WandbSink(self.wandb_run)] if self.wandb_run is not None else [])
        callbacks = [
            RunRecorder(self.writer, parts.computer, sinks),
            progress,
            CheckpointMarker(self.writer.paths),
        ]
        if os.environ.get(FAULT_ENV):  # the resume tests' fault injection; never in a normal run
            callbacks.append(FaultPoints())
        if self.stop is not None:
            callbacks.append(StopOnSignal(self.stop))
        if settings.early_stopping is not None:
            callbacks.append(EarlyStoppingCallback(*settings.early_stopping))
        if parts.compiled_blocks:
            callbacks.append(CompileTimer(self.writer, self.console, parts.compiled_blocks))
        trainer = PeftspecTrainer(
            task=settings.task,
            precision=settings.precision,
            model=parts.model,
            args=self.compiled.training_arguments(self.writer.paths.checkpoints),
            data_collator=parts.collator,
            train_dataset=parts.datasets["train"],
            eval_dataset=parts.datasets.get("validation"),
            processing_class=parts.tokenizer,
            compute_metrics=parts.computer,
            callbacks=callbacks,
            compute_loss_func=_loss(settings),
        )
        trainer.remove_callback(PrinterCallback)
        trainer.remove_callback(ProgressCallback)
        return trainer

    def train(self, resume_from: str | None = None) -> None:
        """Train (from a complete checkpoint when resuming: weights, optimizer, scheduler, RNG state
        and data position come back as they were)."""
        self.trainer.train(resume_from_checkpoint=resume_from)
        state, root = self.trainer.state, self.writer.paths.root
        best = state.best_model_checkpoint
        self.writer.update(
            best={
                "metric": self.settings.best_metric,
                "value": state.best_metric,
                "step": self.writer.paths.checkpoint_step(Path(best)) if best else None,
                "checkpoint": os.path.relpath(best, root) if best else None,
            },
            steps=state.global_step,
            step=state.global_step,
        )

    def final_evaluation(self) -> dict[str, Any]:
        """Score validation and test with the saved weights, tune thresholds if asked, and write
        eval.json, confusion.json, thresholds.json and predictions.parquet."""
        bundle, settings = self.compiled.data, self.settings
        model, _ = self.reload_saved()
        outputs = {
            name: self.predict(model, name) for name in ("validation", "test") if name in self.parts.datasets
        }
        calibration = None
        if settings.calibration == "temperature":  # one temperature for every split, from validation
            calibration = temperature_record(outputs["validation"][0], bundle.validation.labels)
            outputs = {n: (logits / calibration["temperature"], s) for n, (logits, s) in outputs.items()}
        val_scores = scores_from_logits(outputs["validation"][0], bundle.task)
        thresholds = thresholds_for(settings.threshold, bundle, val_scores, settings.tune_for)
        if calibration is not None:
            thresholds["calibration"] = calibration
        final = FinalEvaluation(thresholds)
        for name, (logits, stats) in outputs.items():
            split = bundle.validation if name == "validation" else bundle.test
            final.results[name] = evaluate_split(
                split, logits, stats, bundle, settings.metric_names, thresholds
            )
            self.writer.log(
                {
                    "event": "final",
                    "split": name,
                    "step": self.trainer.state.global_step,
                    **final.results[name].metrics,
                }
            )
        self.writer.write_results(
            final.eval_json(),
            final.confusion_json(),
            thresholds,
            predictions_frame(final.results, bundle.task, bundle.label_names),
        )
        if self.wandb_run is not None:
            for name, result in final.results.items():
                self.wandb_run.summary.update(
                    {f"final/{name}/{k}": v for k, v in result.metrics.items() if isinstance(v, float)}
                )
        return final.eval_json()

    def predict(self, model, split: str) -> tuple:
        """Logits for a split, in the split's row order (a bar over its rows on a terminal)."""
        from peftspec.build.predict import predict
        from peftspec.progress import rows_progress

        dataset = self.parts.datasets[split]
        with rows_progress(self.console, len(dataset), f"final evaluation: {split}") as advance:
            result = predict(
                model,
                dataset,
                self.parts.collator,
                self.settings.eval_batch_size,
                self.settings.task,
                advance,
            )  # as `peftspec predict` and `serve` score the saved model: predictions.parquet is theirs
        return result.logits, result.stats()

    def reload_saved(self):
        """The model as saved in the run directory, after the training copy is released: the recorded
        predictions come from exactly the artifact that ships."""
        import gc

        import torch

        self.trainer.model = self.trainer.model_wrapped = None
        self.parts.model = None
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        folder = self.writer.paths.weights(self.settings.weights)
        return self.compiled.reload(folder, self.parts.added_pad_token, self.parts.pooling)

    def save(self, state: dict | None = None) -> None:
        """The adapter (and the trained head) as safetensors, or the whole model without an adapter;
        `state`: the full weights as `gather_weights` assembled them (unset: the model's own)."""
        from peftspec.build.model import save_trained

        model = self.trainer.accelerator.unwrap_model(self.trainer.model)
        save_trained(model, self.parts.tokenizer, self.writer.paths.weights(self.settings.weights), state)

    def gather_weights(self) -> dict | None:
        """Under FSDP every rank holds a shard: all of them assemble the full weights on rank 0
        (as the Trainer's `save_model` does), before rank 0 saves alone. None without FSDP."""
        if not self.trainer.is_fsdp_enabled:
            return None
        return self.trainer.accelerator.get_state_dict(self.trainer.model)

    def record_ranks(self) -> None:
        """Under torchrun: every rank's share of the data and weight digest, recorded by rank 0,
        with the strategy that ran (on CPUs accelerate runs FSDP's processes as DDP)."""
        from peftspec.train.distributed import gather_facts, rank_facts, summarise

        facts = gather_facts(rank_facts(self.trainer))
        if facts is not None:
            strategy = "fsdp" if self.trainer.is_fsdp_enabled else "ddp"
            self.writer.update(distributed=summarise(strategy, facts))

    def close(self) -> None:
        if self.wandb_run is not None:
            self.wandb_run.finish()


def _start_wandb(compiled: CompiledRun, writer: RunWriter):
    """A W&B run when `[tracking.wandb]` is set; its id and URL go into run.json, never a key."""
    settings = compiled.settings.wandb
    if settings is None:
        return None
    try:
        import wandb
    except ImportError:
        from peftspec.errors import MissingExtra

        raise MissingExtra("run ([tracking.wandb] is set)", "wandb", "wandb") from None
    previous = writer.record.wandb.id if writer.record.wandb else None  # a resumed run continues it
    run = wandb.init(
        id=previous,
        resume="allow" if previous else None,
        project=settings.project,
        entity=settings.entity,
        tags=settings.tags,
        group=settings.group,
        mode=settings.mode,
        name=writer.paths.name,
        config=settings.config,
        notes=settings.notes,
        reinit="finish_previous",
    )
    writer.update(
        wandb={
            "project": settings.project,
            "mode": settings.mode,
            "id": run.id,
            "url": getattr(run, "url", None),
        }
    )
    return run


def _loss(settings):
    """The weighted loss when `trainer.class_weights` sets weights; None: the model's own loss."""
    if settings.class_weights is None:
        return None
    from peftspec.build.class_weights import weighted_loss

    return weighted_loss(settings.class_weights, settings.task)
