"""Hugging Face Inference Endpoints handler: `EndpointHandler(path)(data)` classifies `data["inputs"]`.

Self-contained (imports only torch and transformers): this file ships with the model. Requests look like
`{"inputs": "a text" | ["text", ...], "parameters": {"top_k": 2, "function_to_apply": "sigmoid"}}` and get what
`pipeline("text-classification")` returns for them. A malformed request raises a ValueError whose one-line message
says what to fix (Inference Endpoints answers it with status 400).

Multi-label models answer with every label by default (`top_k` null), each `{"label", "score"}` also carrying
`"above_threshold"`: whether its probability reaches that label's threshold saved in config.json (`thresholds`,
else `threshold`), as predict.py decides; `function_to_apply` must stay sigmoid there. Regression models answer
with every target's raw value (`top_k` null, no function applied), highest first as the pipeline sorts them.
"""

import os

import torch
from transformers import pipeline

MAX_TEXTS = 1024  # one request; larger jobs belong in several requests (or in a batch job)
FUNCTIONS = ("softmax", "sigmoid", "none")


def check_texts(inputs) -> None:
    if isinstance(inputs, str):
        return
    if not isinstance(inputs, list):
        raise ValueError(f'"inputs" must be a text or a list of texts, not {type(inputs).__name__}')
    if len(inputs) > MAX_TEXTS:
        raise ValueError(f'"inputs" holds {len(inputs)} texts; send at most {MAX_TEXTS} per request')
    for index, text in enumerate(inputs):
        if not isinstance(text, str):
            raise ValueError(f'"inputs"[{index}] must be a text, not {type(text).__name__}')


def check_parameters(parameters) -> dict:
    if parameters is None:
        return {}
    if not isinstance(parameters, dict):
        raise ValueError(f'"parameters" must be an object, not {type(parameters).__name__}')
    if unknown := sorted(set(parameters) - {"top_k", "function_to_apply"}):
        raise ValueError(f'unknown "parameters": {", ".join(unknown)} (known: top_k, function_to_apply)')
    top_k = parameters.get("top_k", 1)
    if top_k is not None and (not isinstance(top_k, int) or isinstance(top_k, bool) or top_k < 1):
        raise ValueError(f'"top_k" must be a positive integer or null (all labels), not {top_k!r}')
    function = parameters.get("function_to_apply", "softmax")
    if not isinstance(function, str) or function.lower() not in FUNCTIONS:
        raise ValueError(f'"function_to_apply" must be one of {", ".join(FUNCTIONS)}, not {function!r}')
    return parameters


def saved_thresholds(config) -> dict[str, float]:
    """Multi-label: label name -> the threshold its probability must reach (per label when tuned so)."""
    thresholds = config.thresholds or [config.threshold] * config.num_labels
    return {config.id2label[index]: float(threshold) for index, threshold in enumerate(thresholds)}


def mark_above_threshold(outputs, thresholds: dict[str, float]):
    """The pipeline's nested lists of {"label", "score"}, each entry with "above_threshold" added."""
    if isinstance(outputs, list):
        return [mark_above_threshold(entry, thresholds) for entry in outputs]
    return {**outputs, "above_threshold": outputs["score"] >= thresholds[outputs["label"]]}


class EndpointHandler:
    def __init__(self, path: str = ""):
        self.pipeline = pipeline(
            "text-classification",
            model=path or os.path.dirname(os.path.abspath(__file__)),
            trust_remote_code=True,
            device=0 if torch.cuda.is_available() else -1,
        )

    def __call__(self, data: dict):
        if not isinstance(data, dict) or "inputs" not in data:
            raise ValueError('the request must be a JSON object with "inputs": a text or a list of texts')
        check_texts(data["inputs"])
        parameters = check_parameters(data.get("parameters"))
        config = self.pipeline.model.config
        if config.problem_type not in ("multi_label_classification", "regression"):
            return self.pipeline(data["inputs"], **parameters)
        parameters = {"top_k": None, **parameters}  # every label / target unless asked otherwise
        if config.problem_type == "regression":
            return self.pipeline(data["inputs"], **parameters)
        if parameters.get("function_to_apply", "sigmoid").lower() != "sigmoid":
            raise ValueError(
                '"function_to_apply" must be sigmoid for a multi-label model: its thresholds are probabilities'
            )
        return mark_above_threshold(self.pipeline(data["inputs"], **parameters), saved_thresholds(config))
