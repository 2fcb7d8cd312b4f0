"""The serving files every model folder carries: handler.py (Inference Endpoints) and the fast pipeline.

`pipeline_lstm.py` (with `batching.py`, which it imports) is registered in config.json's `custom_pipelines`, so
`pipeline("text-classification", model=..., trust_remote_code=True)` classifies lists of texts in length-sorted
batches; `handler.py` serves that pipeline on Inference Endpoints. All three import only torch and transformers.
"""

import json
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
SERVING_FILES = ("batching.py", "pipeline_lstm.py", "handler.py")
CUSTOM_PIPELINES = {
    "text-classification": {
        "impl": "pipeline_lstm.LSTMTextClassificationPipeline",
        "pt": ["AutoModelForSequenceClassification"],
        "tf": [],
        "type": "text",
    }
}


def serving_files() -> dict[str, Path]:
    """File name in a model folder -> this package's copy."""
    return {name: PACKAGE_DIR / name for name in SERVING_FILES}


def config_with_pipeline(config_path: Path) -> str:
    """The text of `config_path` (a model's config.json) with the fast pipeline in `custom_pipelines`."""
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["custom_pipelines"] = {**config.get("custom_pipelines", {}), **CUSTOM_PIPELINES}
    return json.dumps(config, indent=2, sort_keys=True) + "\n"


def add_serving_files(folder: Path) -> None:
    """Copy the serving files into a saved model folder and register the pipeline in its config.json."""
    for name, source in serving_files().items():
        (folder / name).write_bytes(source.read_bytes())
    config = folder / "config.json"
    partial = config.with_name("config.json.partial")  # never leave a half-written config
    partial.write_text(config_with_pipeline(config), encoding="utf-8")
    partial.replace(config)
