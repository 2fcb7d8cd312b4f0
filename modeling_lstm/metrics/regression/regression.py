"""Regression report: Pearson, Spearman, MAE, RMSE and R^2 per target and averaged over the targets.

Shipped inside the package (offline): load it with `evaluate.load(path_to_this_folder)`.
"""

import datasets
import evaluate
import numpy as np
from scipy.stats import pearsonr, spearmanr
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

_DESCRIPTION = "Regression report for one or several targets."
_KWARGS_DESCRIPTION = """
Args:
    predictions (`list[list[float]]`): predicted values, one per target.
    references (`list[list[float]]`): true values, one per target.
    target_names (`list[str]`): the name of each target.
Returns:
    For each target `<target>_pearson`, `<target>_spearman`, `<target>_mae`, `<target>_rmse`, `<target>_r2`, and
    `pearson`, `spearman`, `mae`, `rmse`, `r2`: their mean over the targets.
"""
METRICS = ("pearson", "spearman", "mae", "rmse", "r2")


def target_scores(predicted: np.ndarray, true: np.ndarray) -> dict:
    constant = np.ptp(predicted) == 0 or np.ptp(true) == 0  # correlation is undefined: report 0
    return {
        "pearson": 0.0 if constant else float(pearsonr(predicted, true).statistic),
        "spearman": 0.0 if constant else float(spearmanr(predicted, true).statistic),
        "mae": float(mean_absolute_error(true, predicted)),
        "rmse": float(np.sqrt(mean_squared_error(true, predicted))),
        "r2": float(r2_score(true, predicted)),
    }


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class Regression(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="",
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {
                    "predictions": datasets.Sequence(datasets.Value("float64")),
                    "references": datasets.Sequence(datasets.Value("float64")),
                }
            ),
        )

    def _compute(self, predictions, references, target_names):
        predicted, true = np.asarray(predictions), np.asarray(references)
        per_target = {name: target_scores(predicted[:, i], true[:, i]) for i, name in enumerate(target_names)}
        scores = {
            f"{name}_{metric}": value for name, row in per_target.items() for metric, value in row.items()
        }
        for metric in METRICS:
            scores[metric] = float(np.mean([row[metric] for row in per_target.values()]))
        return scores
