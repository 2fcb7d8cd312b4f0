"""train_tokenizer and TextCleaning: every kind, special ids, padding/truncation, save/reload, cleaning in the normalizer."""

import csv
import json
import random

import pytest
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
from transformers import AutoTokenizer

from modeling_lstm import TOKENIZER_KINDS, TextCleaning, train_tokenizer
from modeling_lstm.tokenization import PAD_TOKEN, UNK_TOKEN

TEXTS = [
    "what a wonderful lovely film",
    "i loved every minute of it",
    "great acting and a great story",
    "a joyful delightful experience",
    "what a terrible boring film",
    "i hated every minute of it",
    "awful acting and a dull story",
    "the worst movie this year",
] * 2
PROBE = "a lovely film and a dull story every minute"


MODEL_TYPES = {"wordpiece": "WordPiece", "bpe": "BPE", "unigram": "Unigram", "wordlevel": "WordLevel"}


@pytest.mark.parametrize("kind", TOKENIZER_KINDS)
def test_each_kind_trains_its_own_tokenizer_model(kind):
    assert set(TOKENIZER_KINDS) == set(MODEL_TYPES)  # every kind offered is checked here
    tokenizer = train_tokenizer(TEXTS, vocab_size=80, kind=kind, min_frequency=1)
    saved = json.loads(tokenizer.backend_tokenizer.to_str())
    assert saved["model"]["type"] == MODEL_TYPES[kind]
    pieces = tokenizer.tokenize("wonderfully")  # unseen as a whole word
    if kind == "wordlevel":
        assert pieces == [UNK_TOKEN]  # whole words only
    else:
        assert len(pieces) > 1 and UNK_TOKEN not in pieces  # split into pieces it learned
    if kind == "wordpiece":
        assert all(piece.startswith("##") for piece in pieces[1:])  # BERT's continuation prefix


@pytest.mark.parametrize("kind", TOKENIZER_KINDS)
def test_every_kind_trains_on_list_and_generator(kind):
    from_list = train_tokenizer(TEXTS, vocab_size=80, kind=kind, min_frequency=1)
    from_generator = train_tokenizer((text for text in TEXTS), vocab_size=80, kind=kind, min_frequency=1)
    for tokenizer in (from_list, from_generator):
        assert 2 < len(tokenizer) <= 80
        assert tokenizer.convert_tokens_to_ids(PAD_TOKEN) == tokenizer.pad_token_id == 0
        assert tokenizer.convert_tokens_to_ids(UNK_TOKEN) == tokenizer.unk_token_id == 1
        assert tokenizer.model_input_names == ["input_ids", "attention_mask"]
        encoded = tokenizer(PROBE)
        assert set(encoded) == {"input_ids", "attention_mask"}
        assert encoded["input_ids"] and 1 not in encoded["input_ids"]  # every word was seen in training
        assert 0 not in encoded["input_ids"]
        assert tokenizer.decode(encoded["input_ids"]) == PROBE
    # BPE, WordLevel and WordPiece (learned through the deterministic BPE trainer, modeling_lstm/tokenization.py)
    # give the same vocabulary every time; Unigram may number equal-score pieces differently (tokenizers' hash-map
    # order, huggingface/tokenizers#1794), so only its pieces are compared.
    if kind != "unigram":
        assert from_generator.get_vocab() == from_list.get_vocab()
    assert set(from_generator.get_vocab()) == set(from_list.get_vocab())
    assert from_generator.tokenize(PROBE) == from_list.tokenize(PROBE)


@pytest.mark.parametrize("kind", TOKENIZER_KINDS)
def test_unseen_characters_map_to_unk(kind):
    tokenizer = train_tokenizer(TEXTS, vocab_size=80, kind=kind, min_frequency=1)
    assert tokenizer.unk_token_id in tokenizer("zzqx")["input_ids"]


@pytest.mark.parametrize("kind", TOKENIZER_KINDS)
def test_pads_and_truncates_to_model_max_length(kind, tmp_path):
    tokenizer = train_tokenizer(TEXTS, vocab_size=80, kind=kind, min_frequency=1, model_max_length=4)
    long_text = "what a wonderful lovely film and a great story"
    full = tokenizer(long_text)["input_ids"]
    assert len(full) > 4
    tokenizer.save_pretrained(tmp_path)
    reloaded = AutoTokenizer.from_pretrained(tmp_path)
    assert reloaded.model_max_length == 4
    for tok in (tokenizer, reloaded):
        batch = tok([long_text, "a"], padding=True, truncation=True)
        assert batch["input_ids"][0] == full[:4]  # truncated on the right
        short = tok("a")["input_ids"]
        assert len(short) == 1
        assert batch["input_ids"][1] == short + [0, 0, 0]  # padded on the right with [PAD] = 0
        assert batch["attention_mask"] == [[1, 1, 1, 1], [1, 0, 0, 0]]
        padded = tok(["a"], padding="max_length")["input_ids"]
        assert padded == [short + [0, 0, 0]]


@pytest.mark.parametrize("kind", TOKENIZER_KINDS)
def test_save_and_reload_with_auto_tokenizer_gives_identical_ids(kind, tmp_path):
    tokenizer = train_tokenizer(TEXTS, vocab_size=80, kind=kind, min_frequency=1)
    tokenizer.save_pretrained(tmp_path)
    assert (tmp_path / "tokenizer.json").exists()
    reloaded = AutoTokenizer.from_pretrained(tmp_path)
    assert reloaded.get_vocab() == tokenizer.get_vocab()
    assert (reloaded.pad_token, reloaded.pad_token_id) == (PAD_TOKEN, 0)
    assert (reloaded.unk_token, reloaded.unk_token_id) == (UNK_TOKEN, 1)
    probes = [PROBE, "an UNSEEN zebra!", "", "film " * 30]
    assert reloaded(probes, padding=True)["input_ids"] == tokenizer(probes, padding=True)["input_ids"]
    assert (
        reloaded(probes, padding=True)["attention_mask"] == tokenizer(probes, padding=True)["attention_mask"]
    )
    assert reloaded.padding_side == "right"


@pytest.mark.parametrize(
    "texts", [[], (t for t in []), [None, None]], ids=["empty-list", "empty-generator", "nones"]
)
def test_empty_iterable_is_refused(texts):
    with pytest.raises(ValueError, match="no training texts"):
        train_tokenizer(texts)


def test_none_entries_are_skipped():
    with_nones = train_tokenizer([None, *TEXTS, None], vocab_size=80, kind="wordlevel", min_frequency=1)
    without = train_tokenizer(TEXTS, vocab_size=80, kind="wordlevel", min_frequency=1)
    assert with_nones.get_vocab() == without.get_vocab()


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="sentencepiece") as excinfo:
        train_tokenizer(TEXTS, kind="sentencepiece")
    for kind in TOKENIZER_KINDS:
        assert kind in str(excinfo.value)


def test_tiny_vocab_is_refused():
    with pytest.raises(ValueError, match="vocab_size"):
        train_tokenizer(TEXTS, vocab_size=2)


def test_invalid_unicode_normalization_is_refused():
    with pytest.raises(ValueError, match="unicode_normalization"):
        TextCleaning(unicode_normalization="NFX")


# ------------------------------------------------------------------------------------------------- text cleaning

# option -> (raw text, normalised with the option on, normalised with it off); whitespace normalisation stays on.
CLEANING_CASES = {
    "lowercase": ("Hello WORLD", "hello world", "Hello WORLD"),
    "strip_html": (
        "<p>bold <b>move</b></p>&amp; done",
        "bold move done",
        "<p>bold <b>move</b></p>&amp; done",
    ),
    "replace_urls": (
        "see https://example.com/a?b=1 and www.test.org now",
        "see xxurl and xxurl now",
        "see https://example.com/a?b=1 and www.test.org now",
    ),
    "replace_emails": ("write to jane.doe+x@mail.example.com today", "write to xxemail today", None),
    "replace_numbers": ("3 cats and 1,000.50 dogs", "xxnum cats and xxnum dogs", "3 cats and 1,000.50 dogs"),
    "remove_punctuation": ("hello, world! ok?", "hello world ok", "hello, world! ok?"),
}


@pytest.mark.parametrize("option", sorted(CLEANING_CASES))
def test_each_cleaning_option_changes_normalisation(option):
    raw, on, off = CLEANING_CASES[option]
    assert TextCleaning(**{option: True}).normalizer().normalize_str(raw) == on
    assert TextCleaning().normalizer().normalize_str(raw) == (raw if off is None else off)


def test_unicode_normalization_nfkc():
    raw = "ﬁne ＡＢＣ ①"
    assert TextCleaning(unicode_normalization="NFKC").normalizer().normalize_str(raw) == "fine ABC 1"
    assert TextCleaning().normalizer().normalize_str(raw) == raw


def test_whitespace_normalisation():
    raw = "  a \t b\n\n c  "
    assert TextCleaning().normalizer().normalize_str(raw) == "a b c"
    assert TextCleaning(normalize_whitespace=False).normalizer().normalize_str(raw) == raw


@pytest.mark.parametrize("kind", TOKENIZER_KINDS)
def test_whitespace_runs_never_change_tokens(kind):
    """Kinds whose pre-tokenizer splits on whitespace skip the (slow) whitespace steps; the ids are the same."""
    tokenizer = train_tokenizer(TEXTS, vocab_size=80, kind=kind, min_frequency=1)
    messy = ["  great \t film\n\n  loved   it ", "\u3000a\u00a0 boring  film  "]
    tidy = [" ".join(text.split()) for text in messy]
    assert tokenizer(messy)["input_ids"] == tokenizer(tidy)["input_ids"]
    steps = repr(tokenizer.backend_tokenizer.normalizer)
    assert ("Replace" in steps) == (kind in ("bpe", "unigram"))


def test_cleaning_steps_run_in_order():
    """Emails before URLs before numbers: the number rule must not eat the digits of a URL or an address."""
    cleaning = TextCleaning(replace_emails=True, replace_urls=True, replace_numbers=True, lowercase=True)
    text = "Mail BOB42@Example.com or visit http://site.com/page/7 for 2 offers"
    assert cleaning.normalizer().normalize_str(text) == "mail xxemail or visit xxurl for xxnum offers"


def test_lowercase_argument_overrides_cleaning():
    tokenizer = train_tokenizer(TEXTS, vocab_size=80, min_frequency=1, lowercase=True)
    assert tokenizer.backend_tokenizer.normalizer.normalize_str("Great FILM") == "great film"
    tokenizer = train_tokenizer(
        TEXTS, vocab_size=80, min_frequency=1, lowercase=False, cleaning=TextCleaning(lowercase=True)
    )
    assert tokenizer.backend_tokenizer.normalizer.normalize_str("Great FILM") == "Great FILM"


def test_to_dict_lists_every_option():
    assert TextCleaning(lowercase=True).to_dict() == {
        "unicode_normalization": None,
        "strip_html": False,
        "replace_emails": False,
        "replace_urls": False,
        "replace_numbers": False,
        "lowercase": True,
        "remove_punctuation": False,
        "normalize_whitespace": True,
    }


@pytest.mark.parametrize("kind", TOKENIZER_KINDS)
def test_cleaning_survives_save_and_reload(kind, tmp_path):
    cleaning = TextCleaning(
        unicode_normalization="NFKC",
        strip_html=True,
        replace_emails=True,
        replace_urls=True,
        replace_numbers=True,
        lowercase=True,
        remove_punctuation=True,
    )
    training = [
        *TEXTS,
        "contact me at someone@example.com about the 2 tickets",
        "<i>Read</i> the review at https://reviews.example.com/film/42 !",
        "I paid 12.50 for it, see www.cinema.example",
    ] * 2
    tokenizer = train_tokenizer(training, vocab_size=120, kind=kind, min_frequency=1, cleaning=cleaning)
    tokenizer.save_pretrained(tmp_path)
    reloaded = AutoTokenizer.from_pretrained(tmp_path)

    messy = [
        "<B>GREAT</B>   film!!! Mail ME@EXAMPLE.COM, 3 stars: https://x.example/y?z=1",
        "ﬁlm № 7 —  www.WORST.example  ",
    ]
    for text in messy:
        # Exact, but for runs of whitespace a whitespace-splitting pre-tokenizer ignores anyway.
        expected = cleaning.normalizer().normalize_str(text).split()
        assert reloaded.backend_tokenizer.normalizer.normalize_str(text).split() == expected
        assert tokenizer.backend_tokenizer.normalizer.normalize_str(text).split() == expected
    assert cleaning.normalizer().normalize_str(messy[0]) == "great film mail xxemail xxnum stars xxurl"
    assert reloaded(messy)["input_ids"] == tokenizer(messy)["input_ids"]
    # The raw text never reaches the model: the placeholders do.
    decoded = reloaded.decode(reloaded(messy[0])["input_ids"]).split()
    for word in ("xxemail", "xxnum", "xxurl", "great", "film"):
        assert word in decoded
    assert not any(char in "".join(decoded) for char in "<>@:/!G")


# ----------------------------------------------------------------------------------------------------- real data


def test_wordpiece_on_emotion(emotion_dir):
    def texts(split):
        with open(emotion_dir / f"{split}.csv", newline="", encoding="utf-8") as handle:
            yield from (row["text"] for row in csv.DictReader(handle))

    assert sum(1 for _ in texts("train")) == 16000
    tokenizer = train_tokenizer(texts("train"), vocab_size=8000, kind="wordpiece")
    assert 7000 <= len(tokenizer) <= 8000
    encoded = tokenizer(list(texts("test")))["input_ids"]
    assert len(encoded) == 2000
    total = sum(map(len, encoded))
    unknown = sum(ids.count(tokenizer.unk_token_id) for ids in encoded)
    assert total > 20000
    assert unknown / total < 0.02


def syllable_texts(count: int = 300) -> list[str]:
    """Made-up words built from ten syllables: many pieces occur equally often, so merges tie all the time."""
    rng = random.Random(0)
    syllables = ["ka", "lo", "mi", "ne", "ru", "so", "ta", "vi", "ze", "po"]
    return [
        " ".join("".join(rng.choice(syllables) for _ in range(rng.randint(1, 4))) for _ in range(8))
        for _ in range(count)
    ]


def test_wordpiece_vocabulary_is_the_same_on_every_run():
    """WordPieceTrainer gives a different vocabulary on each run of this corpus (huggingface/tokenizers#1794);
    the same seed must give the same tokenizer, hence the same model."""
    texts = syllable_texts()
    vocabularies = {
        tuple(sorted(train_tokenizer(texts, vocab_size=300, min_frequency=2).get_vocab().items()))
        for _ in range(5)
    }
    assert len(vocabularies) == 1


def test_wordpiece_vocabulary_is_what_wordpiece_training_learns():
    """The same pieces as WordPieceTrainer up to its tie-breaking (which this corpus, full of ties, exercises: 95-96%
    of its pieces here), ## marking pieces inside a word."""
    texts = [text.lower() for text in TEXTS * 3 + syllable_texts()]
    reference = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    reference.normalizer = normalizers.Lowercase()
    reference.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(
        vocab_size=2000, min_frequency=2, special_tokens=["[PAD]", "[UNK]"], show_progress=False
    )
    reference.train_from_iterator(texts, trainer=trainer)
    ours = train_tokenizer(texts, vocab_size=2000, min_frequency=2, lowercase=True)
    expected, learned = set(reference.get_vocab()), set(ours.get_vocab())
    assert abs(len(learned) - len(expected)) <= 5
    assert len(learned & expected) >= 0.9 * len(expected)
    assert ours.convert_ids_to_tokens([0, 1]) == ["[PAD]", "[UNK]"]
    pieces = ours.tokenize("kalominerusotavizepo")  # longer than any word of the corpus
    assert len(pieces) > 1 and not pieces[0].startswith("##")
    assert all(piece.startswith("##") for piece in pieces[1:])
