"""Publish a trained model folder to the Hugging Face Hub, and optionally its demo Space.

    python scripts/push_to_hub.py --model_dir out/emotion --repo_id user/lstm-emotion [--private]
        [--revision BRANCH] [--commit_message MSG] [--include_checkpoints] [--include_onnx] [--space_id user/lstm-emotion-demo]

The token comes from --hub_token, HF_TOKEN or the stored login (`hf auth login`); HF_ENDPOINT selects another Hub.
Exit codes: 0 pushed, 2 a problem you can fix (message on stderr), anything else a bug.
"""

import sys
from dataclasses import dataclass, field

from transformers import HfArgumentParser

from modeling_lstm.cli import run_cli
from modeling_lstm.errors import UserInputError
from modeling_lstm.hub import (
    HUB_TIMEOUT_S,
    push_space,
    push_to_hub,
    validate_model_dir,
    validate_repo_id,
    validate_space,
)


@dataclass
class PushArguments:
    model_dir: str | None = field(
        default=None, metadata={"help": "Trained model folder written by scripts/train.py."}
    )
    repo_id: str | None = field(default=None, metadata={"help": "Model repo on the Hub, as namespace/name."})
    private: bool = field(
        default=False, metadata={"help": "Create the repo private (no effect if it exists)."}
    )
    revision: str | None = field(
        default=None, metadata={"help": "Branch to push to, created from main if new."}
    )
    commit_message: str | None = field(default=None, metadata={"help": "Message of the commit."})
    include_checkpoints: bool = field(
        default=False,
        metadata={"help": "Also upload training state: checkpoints/, runs/, optimizer/RNG states."},
    )
    include_onnx: bool = field(
        default=False,
        metadata={
            "help": "Also upload an ONNX export under onnx/ (runs with onnxruntime + tokenizers, no torch)."
        },
    )
    hub_token: str | None = field(
        default=None, metadata={"help": "Hub token (default: HF_TOKEN or the login)."}
    )
    license: str = field(default="apache-2.0", metadata={"help": "License id written in the model card."})
    space_id: str | None = field(
        default=None, metadata={"help": "Also push the demo Space here (namespace/name), wired to --repo_id."}
    )
    space_dir: str = field(
        default="space", metadata={"help": "Folder of the Space (app.py, README.md, ...)."}
    )
    timeout: float = field(
        default=HUB_TIMEOUT_S,
        metadata={"help": "Seconds to wait for any one answer of the Hub before giving up."},
    )


def check(args: PushArguments) -> None:
    """Everything that can be checked offline, before anything is sent."""
    if not args.model_dir and not args.space_id:
        raise UserInputError("nothing to push: give --model_dir and --repo_id, and/or --space_id")
    if not args.repo_id:
        raise UserInputError("--repo_id is required (the model repo, as namespace/name)")
    if not args.timeout > 0:
        raise UserInputError(f"--timeout must be a positive number of seconds, got {args.timeout}")
    validate_repo_id(args.repo_id)
    if args.model_dir:
        validate_model_dir(args.model_dir)
    if args.space_id:
        validate_space(args.space_dir, args.space_id)


def push(args: PushArguments) -> None:
    check(args)
    model_revision = (
        args.revision
    )  # the Space is pinned to the model commit just pushed, else to this one's head
    if args.model_dir:
        commit = push_to_hub(
            args.model_dir,
            args.repo_id,
            token=args.hub_token,
            private=args.private,
            revision=args.revision,
            commit_message=args.commit_message,
            include_checkpoints=args.include_checkpoints,
            license=args.license,
            timeout=args.timeout,
            include_onnx=args.include_onnx,
        )
        model_revision = commit.oid
        print(
            f"pushed {args.model_dir} to {commit.repo_url} ({args.revision or 'main'}): {commit.commit_url}"
        )
    if args.space_id:
        commit = push_space(
            args.space_dir,
            args.space_id,
            args.repo_id,
            model_revision=model_revision,
            token=args.hub_token,
            private=args.private,
            timeout=args.timeout,
        )
        print(f"pushed the Space {args.space_dir} to {commit.repo_url}: {commit.commit_url}")


def main(argv: list[str] | None = None) -> None:
    (args,) = HfArgumentParser(PushArguments).parse_args_into_dataclasses(args=argv)
    push(args)


if __name__ == "__main__":
    sys.exit(run_cli(main))
