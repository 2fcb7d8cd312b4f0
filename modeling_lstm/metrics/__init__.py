"""`evaluate` metric modules shipped with the package, so nothing is downloaded."""

import os
import sys
from pathlib import Path

CLASSIFICATION_METRIC = str(Path(__file__).parent / "classification")


def import_evaluate():
    """Import the `evaluate` library even when scripts/evaluate.py's folder is first on sys.path.

    Python puts a script's folder first on sys.path, so from any script in scripts/ a plain `import evaluate` would
    find our scripts/evaluate.py instead of the library.
    """
    saved = sys.path[:]
    sys.path[:] = [
        entry for entry in sys.path if not os.path.isfile(os.path.join(entry or ".", "evaluate.py"))
    ]
    try:
        import evaluate  # slow (it pulls in transformers.pipelines): only training and evaluation need it
    finally:
        sys.path[:] = saved
    return evaluate


def load_classification_metric():
    return import_evaluate().load(CLASSIFICATION_METRIC)
