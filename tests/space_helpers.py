"""Helpers for the Space tests: import space/ modules by path, copy a model with results, run the app."""

import importlib.util
import json
import shutil
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
from conftest import REPO_ROOT, TINY_TEXTS, subprocess_env
from safetensors.torch import load_file, save_file

SPACE_DIR = REPO_ROOT / "space"
TEST_ACCURACY = 0.875
EXAMPLES = [TINY_TEXTS["positive"][0], TINY_TEXTS["negative"][0]]


def load_space_module(name: str):
    """Import space/<name>.py the way the Space does (space/ on sys.path: app.py imports `inference`)."""
    if str(SPACE_DIR) not in sys.path:
        sys.path.insert(0, str(SPACE_DIR))
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, SPACE_DIR / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def model_with_results(model_dir: Path, destination: Path) -> Path:
    """A copy of a trained folder with the all_results.json training writes (test accuracy, examples)."""
    shutil.copytree(model_dir, destination)
    results = {"test_accuracy": TEST_ACCURACY, "widget_examples": EXAMPLES, "labels": sorted(TINY_TEXTS)}
    (destination / "all_results.json").write_text(json.dumps(results), encoding="utf-8")
    return destination


def reverse_label_ids(folder: Path) -> list[str]:
    """Number the classes of the model in `folder` the other way round, flipping its output layer to match: the same
    model, whose id2label is not in alphabetical order. Returns the labels in id order."""
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    labels = [config["id2label"][str(index)] for index in range(len(config["id2label"]))][::-1]
    config["id2label"] = {str(index): label for index, label in enumerate(labels)}
    config["label2id"] = {label: index for index, label in enumerate(labels)}
    (folder / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    weights = load_file(folder / "model.safetensors")
    for name in ("classifier.weight", "classifier.bias"):
        weights[name] = weights[name].flip(0).contiguous()
    save_file(weights, folder / "model.safetensors", metadata={"format": "pt"})
    return labels


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_space(model_dir: Path, log_path: Path, timeout: float = 120, **extra_env: str):
    """Run `python space/app.py` on 127.0.0.1 and a free port; yield its URL, stop it afterwards."""
    port = free_port()
    env = subprocess_env(
        MODEL_ID=str(model_dir), GRADIO_SERVER_NAME="127.0.0.1", GRADIO_SERVER_PORT=str(port), **extra_env
    )
    env.pop("MODEL_REVISION", None)
    url = f"http://127.0.0.1:{port}/"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, str(SPACE_DIR / "app.py")],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + timeout
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"the app exited with {process.returncode}:\n{log_path.read_text()}")
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"the app did not answer within {timeout:.0f} s:\n{log_path.read_text()}"
                    )
                try:
                    if httpx.get(url, timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.25)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
