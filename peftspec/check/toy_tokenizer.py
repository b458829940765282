"""Train a small tokenizer in a family's own style on the spec's texts (no download)."""

from __future__ import annotations

from collections.abc import Sequence

from peftspec.plan.family import BYTE_LEVEL, METASPACE, WORDPIECE

ROLES = ("pad", "unk", "bos", "eos", "cls", "sep", "mask")


def train_tokenizer(
    style: str, specials: dict[str, str], template: str | None, texts: Sequence[str], vocab_size: int = 1000
):
    """A `PreTrainedTokenizerFast` of `style` (WordPiece, byte-level BPE or metaspace BPE) with the
    family's special tokens by role, wrapping single texts as `template` says."""
    from tokenizers import (
        Regex,
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
        trainers,
    )
    from transformers import PreTrainedTokenizerFast

    tokens = list(dict.fromkeys(specials.values()))
    unk = specials.get("unk")
    if style == WORDPIECE:
        tok = Tokenizer(models.WordPiece(unk_token=unk or "[UNK]"))
        tok.normalizer = normalizers.BertNormalizer(lowercase=True)
        tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        tok.decoder = decoders.WordPiece()
        trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=tokens, show_progress=False)
    elif style == BYTE_LEVEL:
        tok = Tokenizer(models.BPE(unk_token=None))
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(
            vocab_size=vocab_size,
            special_tokens=tokens,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
        )
    elif style == METASPACE:
        tok = Tokenizer(models.BPE(unk_token=unk, byte_fallback=False))
        tok.normalizer = normalizers.Replace(Regex(" "), "▁")
        tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.Fuse()])
        trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=tokens, show_progress=False)
    else:
        raise ValueError(f"unknown tokenizer style {style!r}")
    tok.train_from_iterator(list(texts), trainer)
    if template:
        used = sorted({t for t in template.split() if t != "$A"})
        tok.post_processor = processors.TemplateProcessing(
            single=template,
            pair=f"{template} $B:1" + (f" {template.split()[-1]}:1" if template.split()[-1] != "$A" else ""),
            special_tokens=[(t, tok.token_to_id(t)) for t in used],
        )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, **{f"{role}_token": specials[role] for role in ROLES if role in specials}
    )


def save_tokenizer(tokenizer, folder, specials: dict[str, str]) -> None:
    """Save, writing the roles the family lacks as null: transformers' per-model tokenizer classes
    otherwise fill in defaults (Qwen2's unk) that the real tokenizer_config.json sets to null."""
    import json
    from pathlib import Path

    tokenizer.save_pretrained(folder)
    path = Path(folder) / "tokenizer_config.json"
    config = json.loads(path.read_text(encoding="utf-8"))
    config.update({f"{role}_token": None for role in ("pad", "unk", "bos", "eos") if role not in specials})
    path.write_text(json.dumps(config, indent=2), encoding="utf-8")
