"""A run's identity: the arguments that decide what it trains, and a fingerprint of the data it trains on.

Training state left in a folder (the tokenizer, step checkpoints) is taken up again only by the run it belongs to:
a resumed run with other arguments would silently mix two runs (another tokenizer's vocabulary, another seed's
step). Where the data came from is left out (a moved folder is the same data); what it holds is in.
"""

import dataclasses
import hashlib
import json

from .errors import UserInputError

DATA_KEY = "training data"
# Arguments that change where things go, how they are logged or how fast they run, but not what is trained.
NOT_IDENTITY = frozenset(
    {
        "output_dir", "overwrite_output_dir", "resume_from_checkpoint", "checkpointing_steps", "save_total_limit",
        "push_to_hub", "hub_model_id", "hub_token", "hub_private_repo", "report_to", "use_cpu",
        "dataloader_num_workers", "preprocessing_num_workers", "dataset_name", "dataset_config_name", "data_dir",
        "train_file", "validation_file", "test_file",
    }
)  # fmt: skip


def data_fingerprint(splits, label_names: list[str]) -> str:
    """A hash of the label names and of every train and validation text and label, in order."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(json.dumps(label_names).encode())
    for split in ("train", "validation"):
        digest.update(f"\0{split}\0".encode())
        for batch in splits[split].iter(batch_size=10_000):
            digest.update(json.dumps([batch["text"], batch["label"]], ensure_ascii=False).encode())
    return digest.hexdigest()


def run_identity(arg_objects, splits, label_names: list[str]) -> dict:
    identity = {DATA_KEY: data_fingerprint(splits, label_names)}
    for args in arg_objects:
        identity |= {k: v for k, v in dataclasses.asdict(args).items() if k not in NOT_IDENTITY}
    return identity


def describe_difference(name: str, recorded, current) -> str:
    if name == DATA_KEY:
        return "the training data (other texts or labels)"
    return f"--{name} {json.dumps(recorded)} (now {json.dumps(current)})"


def check_same_run(recorded: dict | None, current: dict, what: str) -> None:
    """A one-line UserInputError naming every argument in which `recorded` differs from `current`."""
    advice = "rerun with that run's arguments, or start afresh with --overwrite_output_dir"
    if not isinstance(recorded, dict):
        raise UserInputError(f"{what} records no run arguments (an older version wrote it); {advice}")
    names = [name for name in dict.fromkeys([*current, *recorded]) if recorded.get(name) != current.get(name)]
    if names:
        differences = ", ".join(
            describe_difference(name, recorded.get(name), current.get(name)) for name in names
        )
        raise UserInputError(f"{what} belongs to a run with other arguments: {differences}; {advice}")
