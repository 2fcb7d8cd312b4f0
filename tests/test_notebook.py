"""notebooks/quickstart.ipynb, executed top to bottom with nbclient so it cannot rot, and kept without outputs in git.

The notebook runs in a fresh kernel on a slice of ../shared/datasets/emotion (small model, one epoch) and pushes to
the Hub-protocol test server. The kernel is started with its own environment (`hub_subprocess_env`: HF_ENDPOINT,
online, Xet off, the write token, a fresh HF_HOME) because HF_ENDPOINT must be set before huggingface_hub is
imported, and this test process imported it long ago with HF_HUB_OFFLINE=1.
"""

import ast
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from conftest import REPO_ROOT
from hub_fixtures import hub_subprocess_env
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

NOTEBOOK = REPO_ROOT / "notebooks" / "quickstart.ipynb"
STRIP_SCRIPT = REPO_ROOT / "scripts" / "strip_notebook_outputs.py"
ARTIFACTS = REPO_ROOT / "test-artifacts"
REPO_ID = "test-user/lstm-emotion-quickstart"
CELL_TIMEOUT_S = 600
SMALL_RUN = {
    "QUICKSTART_MAX_TRAIN_SAMPLES": "1500",
    "QUICKSTART_EPOCHS": "1",
    "QUICKSTART_EXTRA_ARGS": "--max_eval_samples 400 --embedding_dim 32 --hidden_size 64 --vocab_size 4000",
}


@dataclass
class ExecutedNotebook:
    notebook: nbformat.NotebookNode
    output_dir: Path | None = None  # the model folder, when the notebook trained one

    def cell(self, tag: str) -> nbformat.NotebookNode:
        cells = [cell for cell in self.notebook.cells if tag in cell.metadata.get("tags", [])]
        assert len(cells) == 1, f"expected one cell tagged {tag!r}, found {len(cells)}"
        return cells[0]

    def text(self, tag: str) -> str:
        """Everything a cell printed or displayed as text."""
        parts = []
        for output in self.cell(tag).outputs:
            if output.output_type == "stream":
                parts.append(output.text)
            elif "data" in output:
                parts.append(output.data.get("text/plain", ""))
        return "".join(parts)


def execute(notebook: nbformat.NotebookNode, env: dict, save_as: str) -> None:
    """Run every cell in a new kernel started with `env`, cwd notebooks/; save the result under test-artifacts/.

    CELL_TIMEOUT_S only guards against a hung cell: how long the notebook takes is measured, not asserted."""
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    try:
        client.execute(env=env)  # passed on to the kernel manager: the kernel gets exactly this environment
    finally:
        ARTIFACTS.mkdir(exist_ok=True)
        nbformat.write(notebook, ARTIFACTS / save_as)  # the executed copy, to read when something fails


@pytest.fixture(scope="module")
def executed(emotion_dir, hub_server, tmp_path_factory) -> ExecutedNotebook:
    tmp = tmp_path_factory.mktemp("quickstart")
    env = hub_subprocess_env(hub_server, tmp / "hf-home")
    env.update(
        SMALL_RUN,
        QUICKSTART_DATA_DIR=str(emotion_dir),
        QUICKSTART_OUTPUT_DIR=str(tmp / "model"),
        QUICKSTART_HUB_MODEL_ID=REPO_ID,
        GRADIO_ANALYTICS_ENABLED="False",
    )
    for name in ("QUICKSTART_INSTALL", "MODEL_ID", "MODEL_REVISION", "GRADIO_SERVER_PORT", "GRADIO_SHARE"):
        env.pop(name, None)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    execute(notebook, env, "quickstart.executed.ipynb")
    return ExecutedNotebook(notebook, tmp / "model")


def test_every_cell_ran_without_errors(executed):
    code_cells = [cell for cell in executed.notebook.cells if cell.cell_type == "code"]
    assert all(cell.execution_count is not None for cell in code_cells)
    errors = [output for cell in code_cells for output in cell.outputs if output.output_type == "error"]
    assert errors == []


def test_install_cell_is_skipped_unless_asked(executed):
    # Without QUICKSTART_INSTALL=1 the cell runs and prints nothing: %pip always prints, at least its restart note.
    install = next(cell for cell in executed.notebook.cells if cell.get("id") == "install")
    assert install.execution_count is not None and install.outputs == []


def test_data_cell_reads_the_local_slice(executed):
    text = executed.text("data")
    assert re.search(r"train: Dataset\(\{\s*features: \['text', 'label'\],\s*num_rows: 1500", text), text
    assert "num_rows: 400" in text


def test_training_wrote_the_model_folder_and_the_plots_show_inline(executed):
    for name in ("config.json", "model.safetensors", "tokenizer.json", "all_results.json"):
        assert (executed.output_dir / name).is_file(), name
    results = json.loads((executed.output_dir / "all_results.json").read_text())
    assert results["num_train_samples"] == 1500 and results["epoch"] == 1.0
    # The cell shows the run's own metrics, as all_results.json records them.
    [result] = [output for output in executed.cell("train").outputs if output.output_type == "execute_result"]
    shown = ast.literal_eval(result.data["text/plain"])
    assert set(shown) == {"train_loss", "validation_accuracy", "test_accuracy", "test_macro_f1"}
    assert shown == {key: round(results[key], 3) for key in shown}
    assert results["train_loss"] > 0 and all(0 <= shown[key] <= 1 for key in shown if key != "train_loss")
    images = [output for output in executed.cell("plots").outputs if "image/png" in output.get("data", {})]
    assert len(images) == 2
    for name in ("training_curves.png", "confusion_matrix.png"):
        assert (executed.output_dir / name).stat().st_size > 1000


def test_pipeline_cell_printed_a_label_per_sentence(executed):
    labels = json.loads((executed.output_dir / "all_results.json").read_text())["labels"]
    lines = executed.text("predict").strip().splitlines()
    assert len(lines) == 4, lines
    for line in lines:
        label, score, *_ = line.split()
        assert label in labels and 0 < float(score) <= 1


def test_push_reached_the_hub_and_the_model_loads_back(executed, hub_server):
    text = executed.text("push")
    assert f"Pushed to {REPO_ID}" in text, text
    files = set(hub_server.files(REPO_ID))
    expected = {"config.json", "model.safetensors", "tokenizer.json", "README.md", "training_curves.png"}
    assert expected <= files, sorted(files)
    assert not any(name.startswith("checkpoints/") for name in files)
    labels = json.loads((executed.output_dir / "all_results.json").read_text())["labels"]
    loaded = re.search(r"From the Hub: .* -> (\w+)", text)
    assert loaded and loaded.group(1) in labels, text


def test_gradio_app_ran_inline_and_answered(executed):
    outputs = executed.cell("demo").outputs
    html = "".join(output.data.get("text/html", "") for output in outputs if "data" in output)
    assert re.search(r'<iframe src="http://127\.0\.0\.1:\d+/"', html), outputs
    labels = json.loads((executed.output_dir / "all_results.json").read_text())["labels"]
    assert executed.text("api").split()[0] in labels


def run_cells(tags: tuple[str, ...], env: dict, save_as: str) -> ExecutedNotebook:
    """Only the cells with these tags, in order, in a fresh kernel."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    notebook.cells = [cell for cell in notebook.cells if set(cell.metadata.get("tags", [])) & set(tags)]
    assert len(notebook.cells) == len(tags)
    execute(notebook, env, save_as)
    return ExecutedNotebook(notebook)


def test_push_is_skipped_with_a_message_without_a_token(hub_server, tmp_path):
    """The settings and push cells in a kernel with no HF_TOKEN and no stored login."""
    env = hub_subprocess_env(hub_server, tmp_path / "hf-home", token=None)
    executed = run_cells(("parameters", "push"), env, "quickstart.no-token.ipynb")
    assert "skipping the push" in executed.text("push")


def csv_head(path: Path, rows: int) -> bytes:
    """The header and the first `rows` rows of a CSV file."""
    return "".join(path.read_text(encoding="utf-8").splitlines(keepends=True)[: rows + 1]).encode()


def test_without_a_data_dir_the_data_comes_from_the_hub_by_name(hub_server, emotion_dir, tmp_path):
    """The default (online) path: `dair-ai/emotion` by name, here a slice of it on the Hub stand-in."""
    hub_server.seed_repo(
        "dair-ai/emotion",
        {
            f"{split}.csv": csv_head(emotion_dir / f"{split}.csv", rows)
            for split, rows in (("train", 300), ("validation", 60), ("test", 60))
        },
        repo_type="dataset",
    )
    env = hub_subprocess_env(hub_server, tmp_path / "hf-home")
    for name in ("QUICKSTART_DATA_DIR", "QUICKSTART_MAX_TRAIN_SAMPLES", "QUICKSTART_EXTRA_ARGS"):
        env.pop(name, None)
    executed = run_cells(("parameters", "data"), env, "quickstart.hub-data.ipynb")
    text = executed.text("data")
    assert re.search(r"train: Dataset\(\{\s*features: \['text', 'label'\],\s*num_rows: 300", text), text
    assert "num_rows: 60" in text


def test_committed_notebook_has_no_outputs():
    result = subprocess.run(
        [sys.executable, str(STRIP_SCRIPT), "--check"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


def test_strip_script_removes_what_execution_adds(executed, tmp_path):
    path = tmp_path / "executed.ipynb"
    nbformat.write(executed.notebook, path)
    check = [sys.executable, str(STRIP_SCRIPT), "--check", str(path)]
    assert subprocess.run(check, capture_output=True, timeout=60).returncode == 1
    subprocess.run([sys.executable, str(STRIP_SCRIPT), str(path)], check=True, timeout=60)
    assert subprocess.run(check, capture_output=True, timeout=60).returncode == 0
    stripped = nbformat.read(path, as_version=4)
    committed = nbformat.read(NOTEBOOK, as_version=4)
    assert [cell.source for cell in stripped.cells] == [cell.source for cell in committed.cells]
    assert all(not cell.get("outputs") and not cell.get("execution_count") for cell in stripped.cells)


def test_a_cell_error_fails_the_run(tmp_path):
    """nbclient must stop at a failing cell (allow_errors is off), or a broken notebook would pass."""
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("raise ValueError('broken')")])
    with pytest.raises(CellExecutionError, match="broken"):
        NotebookClient(notebook, timeout=60, kernel_name="python3").execute()
