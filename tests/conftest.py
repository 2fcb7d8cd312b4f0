"""Shared fixtures. Tests never reach the network: HF_HOME is a temp dir and the Hub is offline."""

import os
import sys
import tempfile
from pathlib import Path

import pytest

pytest_plugins = ["hub_fixtures"]  # the Hub-protocol server and push fixtures (tests/hub_fixtures.py)

# Set before transformers / huggingface_hub are imported anywhere in the test session.
_HF_HOME = tempfile.mkdtemp(prefix="hf-home-")
os.environ["HF_HOME"] = _HF_HOME
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ["TOKENIZERS_PARALLELISM"] = "false"

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATASETS = REPO_ROOT.parent / "shared" / "datasets"

TINY_TEXTS = {
    "positive": [
        "what a wonderful lovely film",
        "i loved every minute of it",
        "great acting and a great story",
        "a joyful delightful experience",
        "brilliant funny and warm",
        "the best movie this year",
    ],
    "negative": [
        "what a terrible boring film",
        "i hated every minute of it",
        "awful acting and a dull story",
        "a painful tedious experience",
        "stupid lazy and cold",
        "the worst movie this year",
    ],
}


def subprocess_env(**extra: str) -> dict:
    """Environment for a child Python process: offline, private HF_HOME, the repo importable."""
    env = dict(os.environ)
    env.update(extra)
    return env


# The slow tier (`make test` runs it, `make test-fast` leaves it out): every test that needs the real data (it trains or
# reads the full files) or the Hub test server (pushes, remote-code loads in child processes), and these modules,
# which start a Jupyter kernel, a browser, the Space's server or child Python processes throughout.
SLOW_FIXTURES = {"emotion_dir", "goemotions_dir", "emobank_dir", "trec_dir", "ag_news_dir", "hub_server"}
SLOW_MODULES = {"test_notebook", "test_space_browser", "test_space", "test_auto_roundtrip", "test_serving"}


def pytest_collection_modifyitems(items):
    for item in items:
        if SLOW_FIXTURES & set(item.fixturenames) or item.module.__name__ in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


def running_in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def shared_dataset(name: str, root: Path = SHARED_DATASETS, first_file: str = "train.csv") -> Path:
    """The one gate of every test that needs real data: the folder `root/name`, holding `first_file`.

    Under CI (`CI=true`, as CI services set it) a missing folder fails the test with one line, so a run without the
    data cannot pass by skipping the tests that matter; locally the test skips with the reason.
    """
    path = root / name
    if (path / first_file).is_file():
        return path
    reason = f"real data not found: {path / first_file} is absent (../shared/datasets sits beside the repo)"
    if running_in_ci():
        pytest.fail(f"{reason}; CI=true, so missing data fails the run", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def emotion_dir() -> Path:
    return shared_dataset("emotion")


@pytest.fixture(scope="session")
def goemotions_dir() -> Path:
    return shared_dataset("goemotions", first_file="train.jsonl")


@pytest.fixture(scope="session")
def emobank_dir() -> Path:
    return shared_dataset("emobank")


@pytest.fixture(scope="session")
def trec_dir() -> Path:
    return shared_dataset("trec")


@pytest.fixture(scope="session")
def ag_news_dir() -> Path:
    return shared_dataset("ag_news", first_file="test.csv")


@pytest.fixture(scope="session")
def tiny_texts_and_labels() -> tuple[list[str], list[int], list[str]]:
    names = sorted(TINY_TEXTS)
    texts, labels = [], []
    for label_id, name in enumerate(names):
        texts += TINY_TEXTS[name]
        labels += [label_id] * len(TINY_TEXTS[name])
    return texts, labels, names


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, tiny_texts_and_labels) -> Path:
    """A small model trained for a few steps on TINY_TEXTS and saved with its tokenizer (attention pooling)."""
    import torch

    from modeling_lstm import LSTMConfig, LSTMForSequenceClassification, train_tokenizer

    texts, labels, names = tiny_texts_and_labels
    tokenizer = train_tokenizer(texts, vocab_size=200, kind="wordpiece", min_frequency=1, lowercase=True)
    config = LSTMConfig(
        vocab_size=len(tokenizer),
        embedding_dim=16,
        hidden_size=16,
        pooling="attention",
        id2label=dict(enumerate(names)),
    )
    torch.manual_seed(0)
    model = LSTMForSequenceClassification(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.02)
    batch = tokenizer(texts, padding=True, return_tensors="pt")
    model.train()
    for _ in range(40):
        loss = model(**batch, labels=torch.tensor(labels)).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    model.eval()
    path = tmp_path_factory.mktemp("tiny-model")
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(autouse=True)
def fresh_accelerator_state():
    """Accelerate keeps one process-wide state: a test's Accelerator(cpu=True) would clash with the next in-process
    training run's precision ("AcceleratorState has already been initialized")."""
    yield
    if "accelerate.state" in sys.modules:
        from accelerate.state import AcceleratorState

        AcceleratorState._reset_state(reset_partial_state=True)
