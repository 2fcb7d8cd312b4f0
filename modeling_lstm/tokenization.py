"""Train a fast tokenizer on the user's own texts with the `tokenizers` library.

The text cleaning chosen for training lives in the tokenizer's normalizer, so it travels inside tokenizer.json:
`pipeline`, predict.py and the Space apply exactly the same cleaning without this package.
"""

import itertools
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

PAD_TOKEN = "[PAD]"
UNK_TOKEN = "[UNK]"
TOKENIZER_KINDS = ("wordpiece", "bpe", "unigram", "wordlevel")

# Placeholders are plain lowercase words so that every pre-tokenizer keeps them whole.
URL_PLACEHOLDER = " xxurl "
EMAIL_PLACEHOLDER = " xxemail "
NUMBER_PLACEHOLDER = " xxnum "


@dataclass
class TextCleaning:
    """The classic preprocessing steps, each applied by the tokenizer's normalizer in this order."""

    unicode_normalization: str | None = None  # "NFC", "NFD", "NFKC" or "NFKD"
    strip_html: bool = False
    replace_emails: bool = False
    replace_urls: bool = False
    replace_numbers: bool = False
    lowercase: bool = False
    remove_punctuation: bool = False
    normalize_whitespace: bool = True

    def __post_init__(self):
        forms = ("NFC", "NFD", "NFKC", "NFKD")
        if self.unicode_normalization is not None and self.unicode_normalization not in forms:
            raise ValueError(
                f"unicode_normalization must be one of {', '.join(forms)} or None, got {self.unicode_normalization!r}"
            )

    def to_dict(self) -> dict:
        return asdict(self)

    def normalizer(self, pre_tokenizer_splits_on_whitespace: bool = False) -> normalizers.Normalizer:
        """The steps as one `tokenizers` normalizer. When the pre-tokenizer splits on every run of whitespace, the
        whitespace steps change no token and are left out: they are the normalizer's slowest part."""
        steps = []
        if self.unicode_normalization:
            steps.append(getattr(normalizers, self.unicode_normalization)())
        if self.strip_html:
            steps.append(normalizers.Replace(Regex(r"<[^>]*>"), " "))
            steps.append(normalizers.Replace(Regex(r"&(?:[a-zA-Z]+|#\d+);"), " "))
        if self.replace_emails:
            steps.append(normalizers.Replace(Regex(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), EMAIL_PLACEHOLDER))
        if self.replace_urls:
            steps.append(normalizers.Replace(Regex(r"(?:https?://|www\.)\S+"), URL_PLACEHOLDER))
        if self.replace_numbers:
            steps.append(normalizers.Replace(Regex(r"\d+(?:[.,]\d+)*"), NUMBER_PLACEHOLDER))
        if self.lowercase:
            steps.append(normalizers.Lowercase())
        if self.remove_punctuation:
            steps.append(normalizers.Replace(Regex(r"[^\w\s]"), " "))
        if self.normalize_whitespace and not pre_tokenizer_splits_on_whitespace:
            steps.append(normalizers.Replace(Regex(r"\s+"), " "))
            steps.append(normalizers.Strip())
        return normalizers.Sequence(steps)


SPECIAL_TOKENS = [PAD_TOKEN, UNK_TOKEN]  # PAD first: id 0 is LSTMConfig's default pad_token_id
# Private-use code points stand in for characters while learn_wordpiece_vocab learns a vocabulary.
PRIVATE_USE_START, PRIVATE_USE_END = 0xF0000, 0x10FFFD


def learn_wordpiece_vocab(
    tokenizer: Tokenizer, texts: Iterable[str], vocab_size: int, min_frequency: int
) -> dict[str, int]:
    """A WordPiece vocabulary learned as `WordPieceTrainer` learns one, but the same on every run.

    `WordPieceTrainer` runs BPE merges in which pieces inside a word carry a `##` prefix; it numbers those pieces in
    hash-map order, and ties between merges then break differently from run to run (huggingface/tokenizers#1794):
    one seed gave different vocabularies, hence different models. Here each character of a word is written as one of
    two private-use code points, one for a word's first character and one for the others, and the BPE trainer (which
    is deterministic without a prefix) learns merges over those; the pieces are then mapped back, with `##` for the
    pieces that start inside a word. Words come from the tokenizer's own normalizer and pre-tokenizer.
    """
    first_code: dict[str, str] = {}
    inner_code: dict[str, str] = {}
    original: dict[str, str] = {}  # code point -> character
    is_inner: set[str] = set()

    def code(character: str, table: dict[str, str]) -> str:
        if character not in table:
            point = PRIVATE_USE_START + len(original)
            if point > PRIVATE_USE_END:
                raise ValueError("too many distinct characters to learn a WordPiece vocabulary")
            table[character] = chr(point)
            original[chr(point)] = character
            if table is inner_code:
                is_inner.add(chr(point))
        return table[character]

    encoded_words: dict[str, str] = {}  # words repeat: each is encoded once

    def encode_word(word: str) -> str:
        if word not in encoded_words:
            encoded_words[word] = code(word[0], first_code) + "".join(code(c, inner_code) for c in word[1:])
        return encoded_words[word]

    def encode(text: str) -> str:
        words = tokenizer.pre_tokenizer.pre_tokenize_str(tokenizer.normalizer.normalize_str(text))
        return " ".join(encode_word(word) for word, _ in words)

    bpe = Tokenizer(models.BPE(unk_token=UNK_TOKEN))
    bpe.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, min_frequency=min_frequency, special_tokens=SPECIAL_TOKENS, show_progress=False
    )
    bpe.train_from_iterator((encode(text) for text in texts), trainer=trainer)
    vocab = {}
    for piece, index in bpe.get_vocab().items():
        if piece in SPECIAL_TOKENS:
            vocab[piece] = index
        else:
            vocab[("##" if piece[0] in is_inner else "") + "".join(original[point] for point in piece)] = (
                index
            )
    return vocab


def _model_and_trainer(kind: str, vocab_size: int, min_frequency: int):
    if kind == "wordpiece":
        # No trainer: learn_wordpiece_vocab learns the vocabulary (WordPieceTrainer's differs from run to run).
        return (
            models.WordPiece(unk_token=UNK_TOKEN),
            None,
            pre_tokenizers.BertPreTokenizer(),
            decoders.WordPiece(),
        )
    if kind == "bpe":
        return (
            models.BPE(unk_token=UNK_TOKEN),
            trainers.BpeTrainer(
                vocab_size=vocab_size,
                min_frequency=min_frequency,
                special_tokens=SPECIAL_TOKENS,
                show_progress=False,
            ),
            pre_tokenizers.Metaspace(),
            decoders.Metaspace(),
        )
    if kind == "unigram":
        # Unigram has no minimum frequency: it prunes by likelihood instead.
        return (
            models.Unigram(),
            trainers.UnigramTrainer(
                vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS, unk_token=UNK_TOKEN, show_progress=False
            ),
            pre_tokenizers.Metaspace(),
            decoders.Metaspace(),
        )
    if kind == "wordlevel":
        return (
            models.WordLevel(unk_token=UNK_TOKEN),
            trainers.WordLevelTrainer(
                vocab_size=vocab_size,
                min_frequency=min_frequency,
                special_tokens=SPECIAL_TOKENS,
                show_progress=False,
            ),
            pre_tokenizers.BertPreTokenizer(),
            None,
        )
    raise ValueError(f"tokenizer kind must be one of {', '.join(TOKENIZER_KINDS)}, got {kind!r}")


def _assemble_tokenizer(model, pre_tokenizer, decoder, cleaning: TextCleaning) -> Tokenizer:
    """The untrained pipeline: the cleaning's normalizer, then the kind's pre-tokenizer, model and decoder."""
    tokenizer = Tokenizer(model)
    tokenizer.normalizer = cleaning.normalizer(
        pre_tokenizer_splits_on_whitespace=isinstance(pre_tokenizer, pre_tokenizers.BertPreTokenizer)
    )
    tokenizer.pre_tokenizer = pre_tokenizer
    if decoder is not None:
        tokenizer.decoder = decoder
    return tokenizer


def train_tokenizer(
    texts: Iterable[str],
    vocab_size: int = 16000,
    kind: str = "wordpiece",
    min_frequency: int = 2,
    lowercase: bool | None = None,
    model_max_length: int = 128,
    cleaning: TextCleaning | None = None,
) -> PreTrainedTokenizerFast:
    """Train a tokenizer of the given kind on `texts` and wrap it for transformers.

    These defaults are also scripts/train.py's (modeling_lstm/args.py reads them from this signature).

    Args:
        texts: any iterable of strings (a list, a generator, a `datasets` column); `None` entries are skipped.
        vocab_size: upper bound on the vocabulary, special tokens included.
        kind: "wordpiece", "bpe", "unigram" or "wordlevel" (whole words: pairs best with pretrained word vectors).
        min_frequency: how often a token must occur to enter the vocabulary (not used by unigram).
        lowercase: shorthand for `cleaning.lowercase`; overrides it when given.
        model_max_length: texts are truncated to this many tokens when `truncation=True`.
        cleaning: the normalisation steps; whitespace normalisation only by default.

    Returns:
        A `PreTrainedTokenizerFast` with `[PAD]` (id 0) and `[UNK]` (id 1) that saves and reloads with AutoTokenizer.
    """
    if vocab_size < 3:
        raise ValueError(f"vocab_size must be at least 3 (two special tokens and one more), got {vocab_size}")
    cleaning = cleaning or TextCleaning()
    if lowercase is not None:
        cleaning.lowercase = lowercase
    model, trainer, pre_tokenizer, decoder = _model_and_trainer(kind, vocab_size, min_frequency)

    texts = (text for text in texts if text is not None)
    first = next(texts, None)
    if first is None:
        raise ValueError("no training texts: train_tokenizer needs at least one string")

    tokenizer = _assemble_tokenizer(model, pre_tokenizer, decoder, cleaning)
    texts = itertools.chain([first], texts)
    if trainer is None:
        vocab = learn_wordpiece_vocab(tokenizer, texts, vocab_size, min_frequency)
        tokenizer.model = models.WordPiece(vocab, unk_token=UNK_TOKEN)
        tokenizer.add_special_tokens(SPECIAL_TOKENS)
    else:
        tokenizer.train_from_iterator(texts, trainer=trainer)

    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        pad_token=PAD_TOKEN,
        unk_token=UNK_TOKEN,
        model_max_length=model_max_length,
        padding_side="right",
        truncation_side="right",
        model_input_names=["input_ids", "attention_mask"],
    )


__all__ = ["TextCleaning", "TOKENIZER_KINDS", "train_tokenizer"]
