"""In-training evaluation through peftspec's own prediction (`peftspec.build.predict`).

The Trainer's generic evaluation loop takes batches in the data's order (each padded to its
longest row), runs them with autograd's bookkeeping switched off but not in inference mode, and
gathers logits through accelerate's padding and concatenation. Classification needs none of that:
`predict` sorts the rows by length (each batch pads little), runs without autograd (under
`torch.no_grad`, since the model trains on afterwards) and with autocast at the training
precision, keeps the logits on the device until the end, and restores the row order. The
metrics, the loss (the run's loss function, class weights included), the logged record and the
callbacks are the same as the Trainer's; only the loop is replaced. Under torchrun (several
processes) the Trainer's own loop runs, since it shards the rows over the ranks and gathers them.
"""

from __future__ import annotations

import numpy as np
from transformers import Trainer
from transformers.trainer_utils import EvalLoopOutput

from peftspec.build.predict import predict


class PeftspecTrainer(Trainer):
    """The HF Trainer with `evaluation_loop` replaced by peftspec's length-sorted prediction."""

    def __init__(self, *args, task: str, precision: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.peftspec_task, self.peftspec_precision = task, precision

    def evaluation_loop(
        self,
        dataloader,
        description: str,
        prediction_loss_only: bool | None = None,
        ignore_keys=None,
        metric_key_prefix: str = "eval",
    ) -> EvalLoopOutput:
        dataset = getattr(dataloader, "dataset", None)  # the rows, less the columns the model ignores
        if self.args.world_size > 1 or "labels" not in (getattr(dataset, "column_names", None) or []):
            return super().evaluation_loop(
                dataloader, description, prediction_loss_only, ignore_keys, metric_key_prefix
            )

        def batch_done(rows: int) -> None:  # callbacks see each batch, as in the Trainer's loop
            self.control = self.callback_handler.on_prediction_step(self.args, self.state, self.control)

        result = predict(
            self.model,
            dataset,
            self.data_collator,
            self.args.eval_batch_size,
            self.peftspec_task,
            progress=batch_done,
            precision=self.peftspec_precision,
            loss_function=self.compute_loss_func,
            training=True,
        )
        labels = np.asarray(dataset["labels"])
        metrics = {"loss": result.loss}
        if self.compute_metrics is not None and not prediction_loss_only:
            from transformers import EvalPrediction

            metrics.update(self.compute_metrics(EvalPrediction(predictions=result.logits, label_ids=labels)))
        prefixed = {
            (key if key.startswith(f"{metric_key_prefix}_") else f"{metric_key_prefix}_{key}"): value
            for key, value in metrics.items()
        }
        return EvalLoopOutput(
            predictions=result.logits, label_ids=labels, metrics=prefixed, num_samples=len(labels)
        )
