"""DistilBERT-base for speed only: its standard config with random weights (weights do not change speed)."""

from __future__ import annotations

from pathlib import Path

import torch

from .measure import PeakMemory, batched_throughput, hf_predictor, parameter_count, single_text_latency
from .settings import MB, BenchmarkSettings, Data, Row

# DistilBERT's accuracy is not measured here (no pretrained weights offline); these are the published figures.
DISTILBERT_PUBLISHED = {
    "emotion": (
        0.927,
        "distilbert-base-uncased fine-tuned on emotion, test split (figure quoted in the issue)",
    ),
    "sst2": (0.913, "GLUE SST-2 dev set, Sanh et al. 2019 (DistilBERT paper, table 1)"),
}


def bert_style_tokenizer(texts: list[str], vocab_size: int = 30522):
    """A WordPiece tokenizer built like bert-base-uncased's (lowercase, [CLS] text [SEP], vocab up to 30522) and
    trained here on the training texts: no download. On in-domain text it splits words about as often as BERT's
    own vocabulary, so sequence lengths, the thing that drives DistilBERT's speed, are comparable (if anything
    shorter: a slightly favourable setting for DistilBERT)."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]  # [PAD] = 0 = DistilBertConfig().pad_token_id
    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.decoder = decoders.WordPiece()
    trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=specials, show_progress=False)
    tokenizer.train_from_iterator(texts, trainer=trainer)
    cls_id, sep_id = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        pad_token="[PAD]",
        unk_token="[UNK]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=512,
        model_input_names=["input_ids", "attention_mask"],
    )


def benchmark_distilbert(settings: BenchmarkSettings, data: Data, workdir: Path) -> Row:
    from transformers import DistilBertConfig, DistilBertForSequenceClassification

    label_names = sorted(set(data.train.labels))
    tokenizer = bert_style_tokenizer(data.train.texts)
    torch.manual_seed(settings.seed)
    config = DistilBertConfig(id2label=dict(enumerate(label_names)))
    row = Row("DistilBERT-base (speed only)")
    with PeakMemory() as memory:
        model = DistilBertForSequenceClassification(config).eval()
        texts = data.test.texts[: settings.distilbert_texts]
        # One pass is enough at this speed; the warm-up batch inside batched_throughput still runs first.
        row.texts_per_second, _ = batched_throughput(
            hf_predictor(model, tokenizer), texts, settings.batch_size, 1
        )
    row.peak_rss_mb, row.rss_increase_mb = memory.peak_mb, memory.increase_mb
    row.latency_median_ms, row.latency_p95_ms = single_text_latency(
        hf_predictor(model, tokenizer), texts[: max(10, settings.latency_samples // 6)]
    )
    row.parameters = parameter_count(model)
    folder = workdir / "distilbert"
    model.save_pretrained(folder)
    row.size_mb = (folder / "model.safetensors").stat().st_size / MB
    published = DISTILBERT_PUBLISHED.get(settings.dataset)
    if published:
        row.accuracy = published[0]
        row.notes = f"random weights (speed does not depend on them); accuracy published: {published[1]}"
    else:
        row.notes = (
            f"random weights (speed does not depend on them); no published accuracy on {settings.dataset}"
        )
    row.notes += f"; timed on {len(texts)} test texts"
    row.extra = {"accuracy_is_published": bool(published)}
    return row
