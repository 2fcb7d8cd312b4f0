"""Long texts: head_tail and chunks are the model's (config.long_text_strategy), so training, the pipeline, predict.py
and the Space read the same tokens. The proof with real text: a label placed after token 128 is learned with chunks
and head_tail, not with plain truncation."""

import copy
import json
import random
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch
from conftest import subprocess_env
from test_modeling import one_thread, randomize_, tiny_config  # noqa: F401 (one_thread: autouse)
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from modeling_lstm import LSTMForSequenceClassification
from modeling_lstm.args import parse_args
from modeling_lstm.cli import run_cli
from modeling_lstm.errors import UserInputError
from modeling_lstm.inference import predict_probabilities
from modeling_lstm.model_card import load_run, render_body
from modeling_lstm.onnx import export_onnx
from modeling_lstm.serving import add_serving_files
from modeling_lstm.training import main as train_main

LEGACY_DIR = Path(__file__).parent / "fixtures" / "legacy_classifier"


def twins(strategy: str, **kwargs) -> tuple[LSTMForSequenceClassification, LSTMForSequenceClassification]:
    """A randomised model that reads long texts by `strategy`, and the same weights reading every token given."""
    model = randomize_(LSTMForSequenceClassification(tiny_config(long_text_strategy=strategy, **kwargs)))
    plain = copy.deepcopy(model)
    plain.config.long_text_strategy = "truncate"
    return model.eval(), plain.eval()


def padded(rows: list[list[int]], left: bool) -> dict:
    """A batch of id lists padded with 0 on one side."""
    width = max(map(len, rows))
    pads = [[0] * (width - len(row)) for row in rows]
    ids = [pad + row if left else row + pad for row, pad in zip(rows, pads, strict=True)]
    input_ids = torch.tensor(ids)
    return {"input_ids": input_ids, "attention_mask": (input_ids != 0).long()}


def logits(model, rows: list[list[int]], left: bool = False, **kwargs) -> torch.Tensor:
    with torch.no_grad():
        return model(**padded(rows, left), **kwargs).logits


LONG = [(index * 7) % 47 + 2 for index in range(23)]  # 23 ids >= 2
SHORT = [5, 9, 3]


@pytest.mark.parametrize("left", [False, True])
def test_head_tail_reads_the_first_and_last_tokens_only(left):
    model, plain = twins("head_tail", max_seq_length=7)
    got = logits(model, [LONG, SHORT, LONG[:7]], left)
    # 7 tokens: the first 4 and the last 3; a text of 7 tokens or fewer is read whole.
    expected = logits(plain, [LONG[:4] + LONG[-3:], SHORT, LONG[:7]])
    torch.testing.assert_close(got, expected)
    assert not torch.allclose(got[0], logits(plain, [LONG])[0])


def test_head_tail_per_token_outputs_stay_at_their_positions():
    model, plain = twins("head_tail", max_seq_length=6, pooling="attention")
    with torch.no_grad():
        output = model.lstm(**padded([LONG], left=False), output_attentions=True)
        kept = plain.lstm(**padded([LONG[:3] + LONG[-3:]], left=False), output_attentions=True)
    weights = output.attentions[0][0]  # (23,)
    torch.testing.assert_close(torch.cat([weights[:3], weights[-3:]]), kept.attentions[0][0])
    assert weights[3:-3].abs().sum() == 0 and output.last_hidden_state[0, 3:-3].abs().sum() == 0


def chunked_logits(plain, ids: list[int], length: int, chunk_pooling: str) -> torch.Tensor:
    """The classifier on the windows of `length` consecutive tokens, each read alone, pooled across windows."""
    with torch.no_grad():
        windows = torch.cat(
            [
                plain.lstm(**padded([ids[i : i + length]], False)).pooler_output
                for i in range(0, len(ids), length)
            ]
        )
        return plain.classifier(windows.amax(dim=0) if chunk_pooling == "max" else windows.mean(dim=0))


@pytest.mark.parametrize("chunk_pooling", ["max", "mean"])
@pytest.mark.parametrize("left", [False, True])
def test_chunks_pool_windows_read_alone(chunk_pooling, left):
    model, plain = twins("chunks", max_seq_length=5, max_chunks=4, chunk_pooling=chunk_pooling)
    got = logits(model, [LONG, SHORT, LONG[:7]], left)
    # 23 tokens: four windows of 5; the last 3 tokens are past max_chunks and not read.
    torch.testing.assert_close(got[0], chunked_logits(plain, LONG[:20], 5, chunk_pooling))
    torch.testing.assert_close(got[1], logits(plain, [SHORT])[0])  # one window: as read whole
    torch.testing.assert_close(got[2], chunked_logits(plain, LONG[:7], 5, chunk_pooling))


def test_chunks_with_length_buckets_and_per_token_outputs_agree():
    model, _ = twins("chunks", max_seq_length=4, max_chunks=8, pooling="attention")
    rows = [LONG[: 1 + (index * 5) % 23] for index in range(16)]  # 16 texts of 1 to 23 tokens: much padding
    batch = padded(rows, left=True)
    with torch.no_grad():
        bucketed = model(**batch).logits  # inference: length-sorted sub-batches of windows
        output = model.lstm(**batch, output_attentions=True, output_hidden_states=True)
    with torch.enable_grad():
        whole = model(**batch).logits
    torch.testing.assert_close(bucketed, whole)
    weights = output.attentions[0]  # (16, 23): each window's weights sum to 1, at the tokens' own positions
    assert torch.equal(weights != 0, batch["attention_mask"].bool())
    torch.testing.assert_close(weights.sum(dim=1), -(-batch["attention_mask"].sum(dim=1) // 4).float())
    assert (
        output.last_hidden_state.shape[:2] == output.hidden_states[-1].shape[:2] == batch["input_ids"].shape
    )


def test_training_steps_run_through_the_windows():
    model, _ = twins(
        "chunks", max_seq_length=4, chunk_pooling="mean"
    )  # max: only the windows that win a feature
    model.train()
    loss = model(**padded([LONG, SHORT], left=False), labels=torch.tensor([0, 2])).loss
    loss.backward()
    assert model.lstm.embeddings.weight.grad[LONG[-1]].abs().sum() > 0  # the last window gets a gradient


def test_legacy_folder_keeps_reading_every_token():
    model = LSTMForSequenceClassification.from_pretrained(LEGACY_DIR).eval()
    assert model.config.long_text_strategy == "truncate"
    rows = [[(index * 13) % (model.config.vocab_size - 2) + 2 for index in range(300)]]
    assert not torch.allclose(logits(model, rows), logits(model, [rows[0][:128]]))


def late_label_texts(questions_csv: Path, ag_news_dir: Path, count: int, seed: int) -> pd.DataFrame:
    """`count` texts, half about people: news articles (AG News) of 110 words or more, then one TREC question about
    a person or a place, whose class is the text's label. The label is decided only after token 128."""
    rng = random.Random(seed)
    questions = pd.read_csv(questions_csv)
    questions = questions[questions["label"].isin(["human", "location"])]
    chosen = pd.concat(
        group.sample(count // 2, random_state=seed) for _, group in questions.groupby("label")
    ).sample(frac=1, random_state=seed)
    news = pd.read_csv(ag_news_dir / "test.csv")["text"].tolist()
    rows = []
    for question, label in zip(chosen["text"], chosen["label"], strict=True):
        filler = []
        while sum(len(text.split()) for text in filler) < 110:
            filler.append(rng.choice(news))
        rows.append({"filler": " ".join(filler), "text": " ".join(filler) + " " + question, "label": label})
    return pd.DataFrame(rows)


def train_late_label_model(data_dir: Path, output_dir: Path, *flags: str) -> Path:
    argv = ["--data_dir", str(data_dir), "--output_dir", str(output_dir), "--max_seq_length", "128",
            "--num_train_epochs", "4", "--embedding_dim", "32", "--hidden_size", "32", "--vocab_size", "3000",
            "--per_device_train_batch_size", "16", "--learning_rate", "0.01", "--seed", "0", *flags]  # fmt: skip
    assert run_cli(train_main, argv) == 0
    return output_dir


@pytest.fixture(scope="module")
def late_label_data(trec_dir, ag_news_dir, tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    folder = tmp_path_factory.mktemp("late-label")
    train = late_label_texts(trec_dir / "train.csv", ag_news_dir, 600, seed=0)
    test = late_label_texts(trec_dir / "test.csv", ag_news_dir, 130, seed=1)  # 65 of each: all of TREC's test
    train[["text", "label"]].to_csv(folder / "train.csv", index=False)
    test[["text", "label"]].to_csv(folder / "validation.csv", index=False)
    return folder, test


@pytest.mark.parametrize(
    ("flags", "learned", "card_note"),
    [
        ((), False, "Inputs longer than 128 tokens are truncated; only the start"),
        (("--long_text_strategy", "chunks"), True, "windows of 128 tokens, pooled, up to 1024 tokens"),
        (
            ("--truncation_side", "head_tail"),
            True,
            "the first 64 and the last 64 tokens of a text (of its first 1024)",
        ),
    ],
    ids=["truncate", "chunks", "head_tail"],
)
def test_a_label_after_token_128_is_learned_only_by_reading_past_it(
    late_label_data, tmp_path, flags, learned, card_note
):
    data_dir, test = late_label_data
    output = train_late_label_model(data_dir, tmp_path / "out", *flags)
    tokenizer = AutoTokenizer.from_pretrained(output)
    assert min(len(ids) for ids in tokenizer(test["filler"].tolist())["input_ids"]) > 128
    model = LSTMForSequenceClassification.from_pretrained(output).eval()
    scores = predict_probabilities(model, tokenizer, test["text"].tolist())
    accuracy = float(
        (scores.argmax(-1).numpy() == test["label"].map(model.config.label2id).to_numpy()).mean()
    )
    results = json.loads((output / "all_results.json").read_text())
    print(f"{flags}: accuracy {accuracy:.3f}, train_runtime {results.get('train_runtime')}")
    assert accuracy > 0.75 if learned else accuracy < 0.62  # 130 texts: chance is 0.5 +- 0.044
    assert card_note in render_body(load_run(output), "user/late-label")


PIPELINE_CHILD = """
import json, sys
from transformers import pipeline
# function_to_apply="none": logits, which the tiny model's saturated probabilities would hide
classifier = pipeline(
    "text-classification", model=sys.argv[1], trust_remote_code=True, top_k=None, function_to_apply="none"
)
texts = json.loads(sys.argv[2])
single = [classifier(text) for text in texts]  # the stock pipeline's path: one text, nested in a list
print(json.dumps({"batch": classifier(texts), "single": [scores[0] for scores in single],
                  "pipeline": type(classifier).__name__}))
"""


def long_text_model_dir(tiny_model_dir: Path, folder: Path, strategy: str) -> Path:
    """The tiny trained model reading windows of 4 tokens (head_tail: 2 + 2), at most 3: the tokenizer gives 12."""
    model = LSTMForSequenceClassification.from_pretrained(tiny_model_dir)
    model.config.update({"long_text_strategy": strategy, "max_seq_length": 4, "max_chunks": 3})
    model.save_pretrained(folder)
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    tokenizer.model_max_length = 12
    tokenizer.save_pretrained(folder)
    add_serving_files(folder)  # pipeline_lstm.py, as a trained model ships it
    return folder


@pytest.fixture(scope="module")
def chunks_model_dir(tiny_model_dir, tmp_path_factory) -> Path:
    return long_text_model_dir(tiny_model_dir, tmp_path_factory.mktemp("chunks-model"), "chunks")


PROBES = [
    "i loved it",
    "what a wonderful lovely film and a great story",
    "the worst, most TERRIBLE movie of this year and every other year, but a wonderful lovely ending i loved",
]


@pytest.mark.parametrize("strategy", ["chunks", "head_tail"])
def test_pipeline_in_a_fresh_process_scores_as_the_model_does(tiny_model_dir, tmp_path, strategy):
    folder = long_text_model_dir(tiny_model_dir, tmp_path / "model", strategy)
    result = subprocess.run(
        [sys.executable, "-c", PIPELINE_CHILD, str(folder), json.dumps(PROBES)],
        cwd=tmp_path,
        env=subprocess_env(OMP_NUM_THREADS="1"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    child = json.loads(result.stdout.strip().splitlines()[-1])
    assert child["pipeline"] == "LSTMTextClassificationPipeline"
    model = AutoModelForSequenceClassification.from_pretrained(folder).eval()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    lengths = [len(ids) for ids in tokenizer(PROBES)["input_ids"]]
    assert lengths[0] <= 4 < lengths[1] <= 12 < lengths[2]  # read whole; read as windows or head + tail; cut
    batch = tokenizer(PROBES, padding=True, truncation=True, return_tensors="pt")  # 12 tokens at most
    plain = copy.deepcopy(model)
    plain.config.long_text_strategy = "truncate"
    with torch.no_grad():
        expected = model(**batch).logits
        assert not torch.allclose(expected[1:], plain(**batch).logits[1:])  # the strategy is in effect
    for scores in (child["batch"], child["single"]):
        got = torch.tensor(
            [[item["score"] for item in sorted(row, key=lambda i: i["label"])] for row in scores]
        )
        torch.testing.assert_close(got, expected, rtol=0, atol=1e-5)


def test_onnx_export_refuses_head_tail_and_chunks_in_one_line(chunks_model_dir, tmp_path):
    with pytest.raises(UserInputError, match="ONNX export does not support long_text_strategy 'chunks'"):
        export_onnx(str(chunks_model_dir), tmp_path / "onnx")
    assert not (tmp_path / "onnx").exists()


def test_head_tail_with_chunks_is_refused_in_one_line(tmp_path):
    argv = ["--train_file", "t.csv", "--output_dir", str(tmp_path), "--truncation_side", "head_tail",
            "--long_text_strategy", "chunks"]  # fmt: skip
    with pytest.raises(UserInputError, match="--truncation_side head_tail reads one window"):
        parse_args(argv)
