"""Export a trained classifier to ONNX and run the export with ONNX Runtime.

The export goes through `torch.onnx.export`'s TorchScript tracer. Optimum's exporter (optimum-onnx 0.1) requires
transformers < 4.58, so it cannot run next to transformers 5; `torch.onnx.export(dynamo=True)` fails on the model's
data-dependent `has_holes` branch (STACK_NOTES.md). The tracer records the branch taken for a padded batch: the graph
handles padding on either side exactly as torch does, not masks with holes inside a text (no tokenizer makes those).
Length bucketing (`config.inference_length_buckets`) is switched off while tracing; callers sort texts by length
instead (modeling_lstm.batching).

The exported folder runs with `onnxruntime` and `tokenizers` alone: model.onnx (inputs `input_ids`, `attention_mask`,
output `logits`, dynamic batch and sequence axes), the tokenizer files and config.json (labels, problem type, and
everything else the model's config holds, without `auto_map`: the folder carries no model code).
"""

from __future__ import annotations

import json
import os
import shutil
import warnings
from pathlib import Path

import torch
from transformers.modeling_outputs import SequenceClassifierOutput

from .batching import pad_rows
from .errors import UserInputError

QUANTIZATIONS = ("int8",)
DEFAULT_OPSET = 18
PARITY_TOLERANCE = 1e-4  # the export's self-check on left- and right-padded batches (float32 only)


class _LogitsOnly(torch.nn.Module):
    """The classifier as a function of (input_ids, attention_mask) that returns the logits tensor."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.model(input_ids=input_ids, attention_mask=attention_mask).logits


def sample_batch(
    vocab_size: int, pad_token_id: int, left: bool, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Seven texts of 1 to 13 random tokens, padded on the chosen side (heavy padding for the short ones)."""
    generator = torch.Generator().manual_seed(seed)
    lengths = torch.tensor([1, 13, 4, 7, 2, 13, 9])
    flat_ids = torch.randint(1, vocab_size, (int(lengths.sum()),), generator=generator)
    return pad_rows(flat_ids, lengths.cumsum(0) - lengths, lengths, pad_token_id, left)


def trace_to_onnx(model, path: Path, opset: int) -> None:
    """Write `model`'s logits as an ONNX graph with dynamic batch and sequence axes."""
    wrapper = _LogitsOnly(
        model
    ).eval()  # the export restores the wrapper's mode onto the model: keep both in eval
    buckets = model.config.inference_length_buckets
    model.config.inference_length_buckets = 1  # no data-dependent bucketing in the graph
    dynamic = {0: "batch", 1: "sequence"}
    try:
        with warnings.catch_warnings():
            # The tracer warns about the Python bools it records (has_holes, the empty-batch check): intended.
            warnings.simplefilter("ignore")
            torch.onnx.export(
                wrapper,
                sample_batch(model.config.vocab_size, model.config.pad_token_id, left=False),
                str(path),
                input_names=["input_ids", "attention_mask"],
                output_names=["logits"],
                dynamic_axes={"input_ids": dynamic, "attention_mask": dynamic, "logits": {0: "batch"}},
                opset_version=opset,
                dynamo=False,
            )
    finally:
        model.config.inference_length_buckets = buckets


def import_onnxruntime():
    try:
        import onnxruntime
    except ImportError:
        raise UserInputError(
            "ONNX export and --backend onnx need onnxruntime: pip install 'modeling-lstm[onnx]' (or onnxruntime)"
        ) from None
    return onnxruntime


def inference_session(path: Path, threads: int | None = None):
    """An ONNX Runtime CPU session with as many intra-op threads as torch uses (a like-for-like comparison)."""
    onnxruntime = import_onnxruntime()
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads or torch.get_num_threads()
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # warnings about unused initialisers are noise here
    if os.environ.get("OMP_WAIT_POLICY", "").upper() == "PASSIVE":
        # A busy machine (modeling_lstm/hardware.py): threads that spin while waiting steal the cores others need.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def check_parity(model, path: Path) -> float:
    """Largest |logit difference| between torch and the ONNX graph, on left- and right-padded batches."""
    session = inference_session(path)
    worst = 0.0
    for left in (False, True):
        input_ids, attention_mask = sample_batch(
            model.config.vocab_size, model.config.pad_token_id, left, seed=1
        )
        with torch.inference_mode():
            expected = model(input_ids=input_ids, attention_mask=attention_mask).logits
        (logits,) = session.run(
            ["logits"], {"input_ids": input_ids.numpy(), "attention_mask": attention_mask.numpy()}
        )
        worst = max(worst, float((torch.from_numpy(logits) - expected).abs().max()))
    return worst


def onnx_config(config) -> dict:
    """config.json for the exported folder: the model's config without `auto_map` (no model code there)."""
    values = json.loads(config.to_json_string(use_diff=True))
    values.pop("auto_map", None)
    return values


def write_export(model, tokenizer, folder: Path, opset: int, quantize: str | None) -> None:
    """model.onnx (checked against torch), the tokenizer files and config.json, into `folder`."""
    traced = folder / ("model_float32.onnx" if quantize else "model.onnx")
    trace_to_onnx(model, traced, opset)
    difference = check_parity(model, traced)
    if difference > PARITY_TOLERANCE:
        raise RuntimeError(f"the ONNX graph's logits differ from torch's by {difference:.2e}")
    if quantize:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        quantize_dynamic(traced, folder / "model.onnx", weight_type=QuantType.QInt8)
        traced.unlink()
    tokenizer.save_pretrained(folder)
    values = onnx_config(model.config) | {"onnx_export": {"opset": opset, "quantization": quantize}}
    (folder / "config.json").write_text(json.dumps(values, indent=2), encoding="utf-8")


def export_onnx(
    model_id: str,
    output_dir: str | Path,
    opset: int = DEFAULT_OPSET,
    quantize: str | None = None,
    revision: str | None = None,
) -> Path:
    """Export the classifier at `model_id` (a folder or a Hub repo id) to `output_dir` (see the module docstring).

    The folder is written aside and renamed into place when complete; an existing non-empty `output_dir` is an error.
    With `quantize="int8"`, model.onnx holds ONNX Runtime's dynamic int8 quantisation of the traced graph.
    """
    from .inference import load_classifier

    if quantize not in (None, *QUANTIZATIONS):
        raise UserInputError(f"--quantize {quantize!r}: choose one of {', '.join(QUANTIZATIONS)}")
    output = Path(output_dir)
    if output.exists() and (not output.is_dir() or any(output.iterdir())):
        raise UserInputError(
            f"--output {output} already exists and is not an empty folder; choose another one"
        )
    import_onnxruntime()
    model, tokenizer = load_classifier(model_id, revision)
    strategy = model.config.long_text_strategy
    if strategy != "truncate":
        # The tracer records one path: the graph would read a long text as a plain window, not as the model does.
        raise UserInputError(
            f"--model {model_id}: ONNX export does not support long_text_strategy {strategy!r} yet; export a model "
            "trained with --long_text_strategy truncate and --truncation_side right or left"
        )
    staging = output.with_name(output.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        write_export(model, tokenizer, staging, opset, quantize)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)  # no half-written export left behind
        raise
    if output.exists():
        output.rmdir()  # empty (checked above)
    staging.rename(output)
    return output


class OnnxClassifier:
    """An exported folder behind the classifier's call interface (`config`, `__call__(input_ids, attention_mask)`),
    so modeling_lstm.inference batches texts for it exactly as for the torch model."""

    def __init__(self, folder: Path):
        from .configuration_lstm import LSTMConfig

        self.config = LSTMConfig.from_pretrained(folder)
        self.session = inference_session(folder / "model.onnx")

    def __call__(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> SequenceClassifierOutput:
        (logits,) = self.session.run(
            ["logits"], {"input_ids": input_ids.numpy(), "attention_mask": attention_mask.numpy()}
        )
        return SequenceClassifierOutput(logits=torch.from_numpy(logits))


def find_onnx_folder(model: str, revision: str | None = None) -> Path:
    """The folder holding model.onnx: `model` itself or its onnx/ subfolder; a Hub repo's onnx/ is downloaded."""
    path = Path(model).expanduser()
    if not path.exists() and not model.startswith(("/", ".", "~")) and model.count("/") == 1:
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import HfHubHTTPError

        try:
            path = Path(snapshot_download(model, revision=revision, allow_patterns=["onnx/*"]))
        except (OSError, HfHubHTTPError) as error:  # offline without a cached copy, or not on the Hub
            raise UserInputError(
                f"--model {model}: cannot download its onnx/ folder ({type(error).__name__})"
            ) from None
    for folder in (path, path / "onnx"):
        if (folder / "model.onnx").is_file():
            missing = [name for name in ("config.json", "tokenizer.json") if not (folder / name).is_file()]
            if missing:
                raise UserInputError(f"--model {model}: the ONNX folder {folder} lacks {', '.join(missing)}")
            return folder
    raise UserInputError(
        f"--model {model}: no model.onnx there or in its onnx/ folder (export one with scripts/export_onnx.py)"
    )


def load_onnx_classifier(model: str, revision: str | None = None):
    """(OnnxClassifier, tokenizer) for an exported folder, a model folder with an onnx/ export, or a Hub repo id."""
    from transformers import AutoTokenizer

    folder = find_onnx_folder(model, revision)
    return OnnxClassifier(folder), AutoTokenizer.from_pretrained(folder)
