"""`evaluate` metric modules shipped with the package, so nothing is downloaded."""

from pathlib import Path

CLASSIFICATION_METRIC = str(Path(__file__).parent / "classification")


def load_classification_metric():
    import evaluate  # slow (it pulls in transformers.pipelines): only training and evaluation need it

    return evaluate.load(CLASSIFICATION_METRIC)
