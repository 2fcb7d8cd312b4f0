"""LSTMModel, the encoder every head shares: AutoModel and feature extraction on a classifier's folder, and
folders saved before it existed (weights named embeddings.*, encoder.*, attention.*) loading with identical
logits."""

import json
import shutil
import textwrap
from pathlib import Path

import pytest
import torch
from conftest import REPO_ROOT, subprocess_env
from hub_fixtures import run_python
from transformers import AutoModel, AutoModelForSequenceClassification, AutoTokenizer

from modeling_lstm import LSTMForSequenceClassification, LSTMModel
from modeling_lstm.args import TrainArguments
from modeling_lstm.training import make_optimizer

# Saved by the code before LSTMModel (see its expected_logits.json), with those texts' logits.
LEGACY_DIR = Path(__file__).parent / "fixtures" / "legacy_classifier"
LEGACY = json.loads((LEGACY_DIR / "expected_logits.json").read_text())

CHILD = textwrap.dedent(
    """
    import json, sys

    import torch
    from transformers import AutoModel, AutoModelForSequenceClassification, AutoTokenizer, pipeline

    legacy, folder, texts = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    def encode(path):
        tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=True)
        return tokenizer(texts, padding=True, return_tensors="pt")

    classifier = AutoModelForSequenceClassification.from_pretrained(legacy, trust_remote_code=True).eval()
    base = AutoModel.from_pretrained(folder, trust_remote_code=True).eval()
    with torch.no_grad():
        legacy_logits = classifier(**encode(legacy)).logits
        pooled = base(**encode(folder)).pooler_output
    extract = pipeline("feature-extraction", model=folder, trust_remote_code=True)
    print(json.dumps({
        "legacy_logits": legacy_logits.tolist(),
        "pooled": pooled.tolist(),
        "features": extract(texts),
        "classes": [f"{type(m).__module__}.{type(m).__name__}" for m in (classifier, base, extract.model)],
        "our_modules": sorted(name for name in sys.modules if name.split(".")[0] == "modeling_lstm"),
    }))
    """
)


def legacy_folder_with_todays_code(path: Path) -> Path:
    """The legacy weights and config next to today's remote code, as on a Hub repo whose code was updated."""
    shutil.copytree(LEGACY_DIR, path)
    for name in ("configuration_lstm.py", "modeling_lstm.py"):
        shutil.copy(REPO_ROOT / "modeling_lstm" / name, path / name)
    return path


def legacy_logits(model) -> torch.Tensor:
    tokenizer = AutoTokenizer.from_pretrained(LEGACY_DIR)
    with torch.no_grad():
        return model.eval()(**tokenizer(LEGACY["texts"], padding=True, return_tensors="pt")).logits


@pytest.mark.parametrize("loader", [LSTMForSequenceClassification, AutoModelForSequenceClassification])
def test_folder_saved_before_lstm_model_gives_identical_logits(loader):
    model = loader.from_pretrained(LEGACY_DIR)
    assert type(model) is LSTMForSequenceClassification
    assert torch.equal(legacy_logits(model), torch.tensor(LEGACY["logits"]))


def test_resaved_legacy_folder_uses_the_new_names_and_the_same_logits(tmp_path):
    LSTMForSequenceClassification.from_pretrained(LEGACY_DIR).save_pretrained(tmp_path)
    shutil.copy(LEGACY_DIR / "tokenizer.json", tmp_path)
    reloaded = LSTMForSequenceClassification.from_pretrained(tmp_path)
    assert "lstm.embeddings.weight" in reloaded.state_dict()
    assert torch.equal(legacy_logits(reloaded), torch.tensor(LEGACY["logits"]))


@pytest.fixture(scope="module")
def classifier_and_batch(tiny_model_dir):
    model = LSTMForSequenceClassification.from_pretrained(tiny_model_dir).eval()
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    return model, tokenizer(LEGACY["texts"], padding=True, return_tensors="pt")


def test_auto_model_loads_a_classifiers_encoder(tiny_model_dir, classifier_and_batch):
    classifier, batch = classifier_and_batch
    base = AutoModel.from_pretrained(tiny_model_dir).eval()
    assert type(base) is LSTMModel
    with torch.no_grad():
        outputs = base(**batch, output_hidden_states=True)
        inside = classifier.lstm(**batch)
        logits = classifier(**batch).logits
    assert torch.equal(outputs.pooler_output, inside.pooler_output)
    assert torch.equal(classifier.classifier(outputs.pooler_output), logits)
    # Per-token states of the last layer, zero at padding.
    assert outputs.last_hidden_state.shape == (*batch["input_ids"].shape, base.pooled_size)
    assert torch.equal(outputs.last_hidden_state, outputs.hidden_states[-1])
    assert (outputs.last_hidden_state[batch["attention_mask"] == 0] == 0).all()


def test_last_hidden_state_of_a_text_with_a_hole_is_the_text_without_that_token(classifier_and_batch):
    classifier, batch = classifier_and_batch
    base = classifier.lstm
    ids = batch["input_ids"][:1, : int(batch["attention_mask"][0].sum())]  # a text without its padding
    holed = torch.ones_like(ids)
    holed[0, 2] = 0
    with torch.no_grad():
        with_hole = base(input_ids=ids, attention_mask=holed)
        without = base(input_ids=torch.cat([ids[:, :2], ids[:, 3:]], dim=1))
    kept = holed[0].bool()
    assert torch.equal(with_hole.last_hidden_state[0, ~kept], torch.zeros(1, base.pooled_size))
    torch.testing.assert_close(
        with_hole.last_hidden_state[0, kept], without.last_hidden_state[0], rtol=0, atol=1e-6
    )
    torch.testing.assert_close(with_hole.pooler_output, without.pooler_output, rtol=0, atol=1e-6)


def test_pooled_only_takes_the_length_buckets_at_inference(classifier_and_batch, monkeypatch):
    classifier, _ = classifier_and_batch
    ids = torch.zeros(16, 30, dtype=torch.long)
    ids[:, :2] = 5
    ids[0, :] = 6  # one long text: most of the batch is padding
    bucketed_calls = []
    bucketed_pooled = classifier.lstm.bucketed_pooled
    monkeypatch.setattr(
        classifier.lstm, "bucketed_pooled", lambda *args: bucketed_calls.append(1) or bucketed_pooled(*args)
    )
    with torch.no_grad():
        bucketed = classifier.lstm(input_ids=ids, pooled_only=True)
        whole = classifier.lstm(input_ids=ids)
        assert len(bucketed_calls) == 1
        # The classifier's logits-only path is the bucketed one; asking for per-token outputs is not.
        logits = classifier(input_ids=ids).logits
        assert len(bucketed_calls) == 2
        classifier(input_ids=ids, output_hidden_states=True)
        assert len(bucketed_calls) == 2
    assert bucketed.last_hidden_state is None and whole.last_hidden_state is not None
    torch.testing.assert_close(bucketed.pooler_output, whole.pooler_output, rtol=0, atol=1e-6)
    torch.testing.assert_close(logits, classifier.classifier(whole.pooler_output), rtol=0, atol=1e-6)


@pytest.mark.slow  # a child interpreter loads remote code
def test_fresh_process_without_the_package(tmp_path, tiny_model_dir, classifier_and_batch):
    """Remote code only: a legacy folder gives its logits, and a classifier folder gives text embeddings
    through AutoModel and pipeline("feature-extraction")."""
    legacy = legacy_folder_with_todays_code(tmp_path / "legacy")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = run_python(
        CHILD,
        subprocess_env(OMP_NUM_THREADS="1"),  # tiny tensors: threads only add hand-off costs
        args=[str(legacy), str(tiny_model_dir), json.dumps(LEGACY["texts"])],
        timeout=300,
        cwd=elsewhere,
    )
    child = json.loads(result.stdout.strip().splitlines()[-1])
    assert child["our_modules"] == []
    assert all(name.startswith("transformers_modules.") for name in child["classes"]), child["classes"]
    assert [name.rpartition(".")[2] for name in child["classes"]] == [
        "LSTMForSequenceClassification",
        "LSTMModel",
        "LSTMModel",
    ]
    assert child["legacy_logits"] == LEGACY["logits"]
    classifier, batch = classifier_and_batch
    with torch.no_grad():
        inside = classifier.lstm(**batch)
    torch.testing.assert_close(torch.tensor(child["pooled"]), inside.pooler_output, rtol=0, atol=1e-6)
    # The pipeline runs the texts one by one: each one's per-token states, without padding.
    for row, features in enumerate(child["features"]):
        length = int(batch["attention_mask"][row].sum())
        expected = (
            inside.last_hidden_state[row, :length] if length else torch.zeros(1, classifier.lstm.pooled_size)
        )
        torch.testing.assert_close(torch.tensor(features[0]), expected, rtol=0, atol=1e-6)


def test_the_embedding_table_under_the_base_model_gets_no_weight_decay(classifier_and_batch):
    classifier, _ = classifier_and_batch
    optimizer = make_optimizer(classifier, TrainArguments(weight_decay=0.01))
    decayed = {
        id(p) for group in optimizer.param_groups if group["weight_decay"] > 0 for p in group["params"]
    }
    assert id(classifier.get_input_embeddings().weight) not in decayed
    assert (
        id(classifier.classifier.weight) in decayed
        and id(classifier.lstm.encoder.layers[0].weight_hh_l0) in decayed
    )
