"""`evaluate` metric modules shipped with the package, so nothing is downloaded."""

from pathlib import Path

CLASSIFICATION_METRIC = str(Path(__file__).parent / "classification")
METRIC_FOLDERS = {
    "single_label_classification": CLASSIFICATION_METRIC,
    "multi_label_classification": str(Path(__file__).parent / "multilabel"),
    "regression": str(Path(__file__).parent / "regression"),
}


def load_classification_metric():
    return load_problem_metric("single_label_classification")


def load_problem_metric(problem_type: str | None):
    """The shipped metric for a config's problem type (None: single-label, as models saved before it was set)."""
    import evaluate  # slow (it pulls in transformers.pipelines): only training and evaluation need it

    return evaluate.load(METRIC_FOLDERS[problem_type or "single_label_classification"])
