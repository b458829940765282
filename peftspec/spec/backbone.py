"""`[backbone]`: the pretrained model that the adapter is attached to."""

from __future__ import annotations

from typing import Annotated, Literal

from peftspec.spec.base import SpecModel
from peftspec.spec.paths import SpecPath

Dtype = Literal["auto", "float32", "bfloat16", "float16"]


class BackboneSpec(SpecModel):
    """The pretrained model, loaded with `AutoModelForSequenceClassification`."""

    model: Annotated[str, SpecPath(maybe_hub=True)]
    """Hub id (`google/gemma-1.1-2b-it`), a local folder (relative to the spec file), or
    `package:NAME` for a model folder shipped inside an installed Python package."""
    revision: str | None = None
    """Git revision (branch, tag or commit) on the Hub; pin it for reproducibility."""
    tokenizer: Annotated[str, SpecPath(maybe_hub=True)] | None = None
    """Where to load the tokenizer from; unset = the same place as `model`."""
    dtype: Dtype = "auto"
    """Dtype of the weights that are not quantised; `auto` = the checkpoint's own dtype."""
    attention: Literal["auto", "eager", "sdpa", "flash_attention_2"] = "auto"
    """Attention kernel; `auto` lets transformers pick (sdpa where supported).
    `flash_attention_2` needs a CUDA GPU and the flash-attn package."""
    trust_remote_code: bool = False
    """Run Python code shipped with the model repository. Only for repositories you trust."""
    allow_pickle_weights: bool = False
    """Also load weights stored as pickle (`pytorch_model.bin`), which can run code when loaded;
    unset = safetensors only. Only for repositories you trust."""
    pooling: Literal["auto", "cls", "pooler", "mean", "last"] = "auto"
    """How the sequence becomes the one vector the classification head reads: `cls` (the first
    token), `pooler` (BERT's pooler over [CLS]), `mean` (mean of the real tokens' final states) or
    `last` (the last non-pad token). `auto` = what the backbone was trained with: the pooling
    named by a sentence-transformers checkpoint (`1_Pooling/config.json`), otherwise the
    architecture's own head (the pooler for BERT-style encoders, the last token for decoders,
    [CLS] for others). A pooler that the checkpoint never trained is trained in full."""
    pad_token: Literal["auto", "eos", "unk", "new"] = "auto"
    """Pad token for decoder models that have none: `auto` keeps the tokenizer's or falls back
    to EOS; `eos`/`unk` reuse that token; `new` adds `<pad>` and resizes the embeddings."""
