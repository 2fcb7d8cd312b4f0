"""Multi-label report: micro / macro / samples F1, subset accuracy, Hamming loss and per-label scores.

Shipped inside the package (offline): load it with `evaluate.load(path_to_this_folder)`.
"""

import datasets
import evaluate
import numpy as np
from sklearn.metrics import accuracy_score, f1_score, hamming_loss, precision_recall_fscore_support

_DESCRIPTION = "Multi-label classification report over multi-hot predictions and references."
_KWARGS_DESCRIPTION = """
Args:
    predictions (`list[list[int]]`): predicted multi-hot vectors (1 where a label's score reaches its threshold).
    references (`list[list[int]]`): true multi-hot vectors.
    label_names (`list[str]`): the name of each position; every label gets a row even if never predicted.
Returns:
    micro_f1, macro_f1, samples_f1, micro_precision, micro_recall, macro_precision, macro_recall, subset_accuracy
    (exact match), hamming_loss (share of wrong label decisions); per_class ({name: {precision, recall, f1,
    support}}).
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class Multilabel(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="",
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {
                    "predictions": datasets.Sequence(datasets.Value("int64")),
                    "references": datasets.Sequence(datasets.Value("int64")),
                }
            ),
        )

    def _compute(self, predictions, references, label_names):
        predicted, true = np.asarray(predictions), np.asarray(references)
        precision, recall, f1, support = precision_recall_fscore_support(true, predicted, zero_division=0)
        micro = precision_recall_fscore_support(true, predicted, average="micro", zero_division=0)
        return {
            "micro_f1": float(micro[2]),
            "macro_f1": float(f1.mean()),
            "samples_f1": float(f1_score(true, predicted, average="samples", zero_division=0)),
            "micro_precision": float(micro[0]),
            "micro_recall": float(micro[1]),
            "macro_precision": float(precision.mean()),
            "macro_recall": float(recall.mean()),
            "subset_accuracy": float(accuracy_score(true, predicted)),
            "hamming_loss": float(hamming_loss(true, predicted)),
            "per_class": {
                name: {
                    "precision": float(precision[i]),
                    "recall": float(recall[i]),
                    "f1": float(f1[i]),
                    "support": int(support[i]),
                }
                for i, name in enumerate(label_names)
            },
        }
