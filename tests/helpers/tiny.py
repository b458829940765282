"""Tiny random backbones (Qwen2, Gemma, BERT) with a tokenizer trained locally: no hub, no network."""

from __future__ import annotations

import json
import random
from pathlib import Path

EMOTIONS = ["joy", "anger", "fear", "sadness"]
CUES = {
    "joy": ["happy", "delighted", "wonderful", "smiling", "great"],
    "anger": ["furious", "angry", "outraged", "hate", "annoyed"],
    "fear": ["scared", "afraid", "terrified", "nervous", "worried"],
    "sadness": ["sad", "crying", "lonely", "miserable", "grief"],
}
FILLER = [
    "today",
    "the",
    "weather",
    "my",
    "friend",
    "said",
    "that",
    "was",
    "really",
    "so",
    "at",
    "work",
    "again",
    "this",
    "morning",
    "and",
    "then",
    "we",
    "went",
    "home",
]


def synthetic_rows(n: int, seed: int = 0, multi_label: bool = True) -> list[dict]:
    """Short texts whose words give away their labels, so a tiny model can learn something."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        k = rng.choice([1, 1, 2]) if multi_label else 1
        labels = rng.sample(EMOTIONS, k)
        words = [rng.choice(FILLER) for _ in range(rng.randint(3, 8))]
        for label in labels:
            words.insert(rng.randrange(len(words) + 1), rng.choice(CUES[label]))
        row = {"id": f"r{i}", "text": " ".join(words)}
        if multi_label:
            row.update({e: int(e in labels) for e in EMOTIONS})
        else:
            row["label"] = labels[0]
        rows.append(row)
    return rows


def write_csv(rows: list[dict], path: Path) -> Path:
    cols = list(rows[0])
    lines = [",".join(cols)] + [",".join(str(r[c]) for c in cols) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_jsonl(rows: list[dict], path: Path) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def corpus() -> list[str]:
    return [r["text"] for r in synthetic_rows(400, seed=123)] + [" ".join(_vocab())]


def _vocab() -> list[str]:
    return sorted({w for cues in CUES.values() for w in cues} | set(FILLER))


def make_tokenizer(kind: str, with_pad: bool = True):
    """A tokenizer of the family's own design (WordPiece, byte-level BPE, metaspace BPE), trained here
    on the synthetic corpus with the same code `peftspec check` trains its toy tokenizers with."""
    from peftspec.check.toy_tokenizer import train_tokenizer
    from peftspec.plan.family import BERT_SPECIALS, BYTE_LEVEL, METASPACE, WORDPIECE

    if kind == "bert":
        tokenizer = train_tokenizer(WORDPIECE, BERT_SPECIALS, "[CLS] $A [SEP]", corpus(), vocab_size=300)
        tokenizer.toy_specials = BERT_SPECIALS
        return tokenizer
    specials = {"pad": "<pad>"} if with_pad else {}
    specials.update({"unk": "<unk>", "bos": "<bos>", "eos": "<eos>"})
    style = BYTE_LEVEL if kind == "qwen2" else METASPACE  # gemma: spaces become "▁"
    tokenizer = train_tokenizer(style, specials, None, corpus(), vocab_size=400)
    tokenizer.toy_specials = specials  # saved with the roles it lacks as null (see save_tokenizer)
    return tokenizer


def make_backbone(
    kind: str, folder: Path, with_pad: bool = True, seed: int = 0, sentence_pooling: str | None = None
) -> Path:
    """Save a tiny random `kind` model (bert, qwen2, gemma) and its tokenizer under `folder`;
    `sentence_pooling` (a sentence-transformers mode key such as `pooling_mode_mean_tokens`) adds
    the files of a sentence-transformers checkpoint that pools that way."""
    import torch
    from transformers import AutoModel, BertConfig, GemmaConfig, Qwen2Config

    from peftspec.check.toy_tokenizer import save_tokenizer

    torch.manual_seed(seed)
    tokenizer = make_tokenizer(kind, with_pad)
    vocab = len(tokenizer)
    common = {
        "vocab_size": vocab,
        "hidden_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "intermediate_size": 128,
        "max_position_embeddings": 128,
    }
    if kind == "bert":
        config = BertConfig(**common, pad_token_id=0)
    elif kind == "qwen2":
        config = Qwen2Config(
            **common,
            num_key_value_heads=2,
            tie_word_embeddings=True,
            pad_token_id=tokenizer.pad_token_id,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
        )
    elif kind == "gemma":
        config = GemmaConfig(
            **common,
            num_key_value_heads=2,
            head_dim=16,
            pad_token_id=tokenizer.pad_token_id,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
        )
    else:
        raise ValueError(kind)
    model = AutoModel.from_config(config)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    save_tokenizer(tokenizer, folder, tokenizer.toy_specials)
    if sentence_pooling is not None:
        write_sentence_transformers_files(folder, sentence_pooling, config.hidden_size)
    return folder


def write_sentence_transformers_files(folder: Path, mode: str, width: int) -> None:
    """modules.json and 1_Pooling/config.json as sentence-transformers writes them."""
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
    ]
    (folder / "modules.json").write_text(json.dumps(modules, indent=2), encoding="utf-8")
    modes = ["pooling_mode_cls_token", "pooling_mode_mean_tokens", "pooling_mode_max_tokens"]
    pooling = {"word_embedding_dimension": width, **{m: m == mode for m in sorted({*modes, mode})}}
    (folder / "1_Pooling").mkdir(exist_ok=True)
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(pooling, indent=2), encoding="utf-8")
