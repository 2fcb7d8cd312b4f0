"""modeling_lstm.plots: the two PNG files training writes, drawn without touching a notebook user's matplotlib."""

import subprocess
import sys

from conftest import REPO_ROOT, subprocess_env

from modeling_lstm.plots import plot_confusion_matrix, plot_training_curves

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
HISTORY = [
    {
        "epoch": 1,
        "train_loss": 1.2,
        "validation_loss": 1.0,
        "validation_accuracy": 0.6,
        "validation_macro_f1": 0.5,
    },
    {
        "epoch": 2,
        "train_loss": 0.8,
        "validation_loss": 0.9,
        "validation_accuracy": 0.7,
        "validation_macro_f1": 0.6,
    },
]


def test_both_plots_are_written_as_png(tmp_path):
    curves = plot_training_curves(HISTORY, tmp_path / "curves.png", metric="macro_f1")
    matrix = plot_confusion_matrix([[5, 1], [2, 7]], ["neg", "pos"], tmp_path / "matrix.png", title="test")
    for path in (curves, matrix):
        data = path.read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 5000, path


# A notebook's backend (here the pdf one, standing in for Jupyter's inline backend) and its pyplot state.
USER_SESSION = """
import sys
from pathlib import Path

import matplotlib

matplotlib.use("pdf")
from modeling_lstm.plots import plot_confusion_matrix, plot_training_curves

plot_training_curves({history!r}, Path(sys.argv[1]) / "curves.png")
plot_confusion_matrix([[5, 1], [2, 7]], ["neg", "pos"], Path(sys.argv[1]) / "matrix.png", title="test")
print(matplotlib.get_backend(), "matplotlib.pyplot" in sys.modules)
"""


def test_plotting_leaves_the_users_backend_and_pyplot_alone(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", USER_SESSION.format(history=HISTORY), str(tmp_path)],
        cwd=REPO_ROOT,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["pdf", "False"]
    assert (tmp_path / "curves.png").read_bytes().startswith(PNG_MAGIC)
