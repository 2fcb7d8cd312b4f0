"""Accuracy, macro-F1, per-class precision / recall / F1 and the confusion matrix, as one `evaluate` metric.

Shipped inside the package because `evaluate.load("accuracy")` fetches a script from the Hub: load this one with
`evaluate.load(path_to_this_folder)`, fully offline.
"""

import datasets
import evaluate
import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

_DESCRIPTION = "Single-label classification report: accuracy, macro-F1, per-class scores, confusion matrix."
_KWARGS_DESCRIPTION = """
Args:
    predictions (`list[int]`): predicted class ids.
    references (`list[int]`): true class ids.
    label_names (`list[str]`): the name of each class id; every class gets a row even if never predicted.
Returns:
    accuracy, macro_f1, macro_precision, macro_recall (floats in [0, 1]); per_class ({name: {precision, recall,
    f1, support}}); confusion_matrix (rows: true class, columns: predicted class).
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class Classification(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="",
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {"predictions": datasets.Value("int64"), "references": datasets.Value("int64")}
            ),
        )

    def _compute(self, predictions, references, label_names):
        class_ids = np.arange(len(label_names))
        precision, recall, f1, support = precision_recall_fscore_support(
            references, predictions, labels=class_ids, zero_division=0
        )
        return {
            "accuracy": float(accuracy_score(references, predictions)),
            "macro_f1": float(f1.mean()),
            "macro_precision": float(precision.mean()),
            "macro_recall": float(recall.mean()),
            "per_class": {
                name: {
                    "precision": float(precision[i]),
                    "recall": float(recall[i]),
                    "f1": float(f1[i]),
                    "support": int(support[i]),
                }
                for i, name in enumerate(label_names)
            },
            "confusion_matrix": confusion_matrix(references, predictions, labels=class_ids).tolist(),
        }
