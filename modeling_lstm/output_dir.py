"""The output folder: what in it belongs to this project, and how a new model replaces the old one safely.

A user may point --output_dir at a folder holding their own files (notes, the very data being trained on). Those are
never deleted, overwritten or left elsewhere: a manifest (MANIFEST, a hidden file, so never uploaded) lists the
entries this project wrote, and only those are ever replaced. A folder without a manifest that holds a model
trained here (written before manifests existed) counts as ours too. Every file is written aside and renamed into
place, and temporary folders get unique names, so sibling folders such as `.out.staging` are never touched.
"""

import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import UserInputError

MANIFEST = ".modeling_lstm_files.json"
CHECKPOINTS = "checkpoints"
TRACKER_LOGS = "modeling-lstm"  # Accelerate's trackers write under project_dir/<project name>
# Training state: carried over from one model to the next, never replaced by publish().
STATE_ENTRIES = (CHECKPOINTS, TRACKER_LOGS, "runs")
MODEL_ENTRIES = (
    "config.json", "model.safetensors", "configuration_lstm.py", "modeling_lstm.py", "tokenizer.json",
    "tokenizer_config.json", "special_tokens_map.json", "training_args.yaml", "all_results.json",
    "training_curves.png", "confusion_matrix.png",
)  # fmt: skip
HAS_MODEL = ("config.json", "model.safetensors")
# What a checkpoints folder of ours holds (for folders written before manifests existed).
CHECKPOINT_NAMES = re.compile(r"tokenizer|best(\.partial)?|step_\d+(\.partial)?|run\.json")


def write_text_atomic(path: Path, text: str) -> None:
    """Write `path` so that a reader (or a crash) sees the old content or the new, never half of it."""
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False
    ) as handle:
        handle.write(text)
    os.replace(handle.name, path)


@contextmanager
def folder_written_aside(folder: Path) -> Iterator[Path]:
    """Yield a fresh temporary folder beside `folder`; once the block succeeds it replaces `folder` by renames.

    A kill or an error inside the block leaves `folder` as it was (and at worst a uniquely named hidden folder).
    """
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{folder.name}.partial-", dir=folder.parent))
    try:
        yield work / "new"
        if folder.exists():
            folder.rename(work / "old")
        (work / "new").rename(folder)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def read_manifest(folder: Path) -> set[str] | None:
    try:
        entries = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))["entries"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return {
        name for name in entries if isinstance(name, str) and "/" not in name and name not in ("", ".", "..")
    }


def write_manifest(folder: Path, entries: set[str]) -> None:
    record = {"written_by": "modeling-lstm", "entries": sorted(entries)}
    write_text_atomic(folder / MANIFEST, json.dumps(record, indent=2) + "\n")


def looks_like_our_model(folder: Path) -> bool:
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    auto_map = config.get("auto_map") if isinstance(config, dict) else None
    return isinstance(auto_map, dict) and auto_map.get("AutoConfig") == "configuration_lstm.LSTMConfig"


def looks_like_our_checkpoints(folder: Path) -> bool:
    children = (
        [path.name for path in (folder / CHECKPOINTS).iterdir()] if (folder / CHECKPOINTS).is_dir() else []
    )
    return bool(children) and all(CHECKPOINT_NAMES.fullmatch(name) for name in children)


def owned_entries(folder: Path) -> set[str]:
    """Names of the entries of `folder` this project wrote."""
    listed = read_manifest(folder)
    if listed is not None:
        return listed
    present = {path.name for path in folder.iterdir()} if folder.is_dir() else set()
    owned = set()
    if looks_like_our_model(folder):
        owned |= present & set(MODEL_ENTRIES + STATE_ENTRIES)
    if looks_like_our_checkpoints(folder):
        owned.add(CHECKPOINTS)
    return owned


def foreign_entries(folder: Path) -> list[str]:
    """Names of the entries of `folder` this project did not write (the user's), sorted."""
    owned = owned_entries(folder) | {MANIFEST}
    return sorted(path.name for path in folder.iterdir() if path.name not in owned)


def has_model(folder: Path, owned: set[str]) -> bool:
    return any(name in owned and (folder / name).exists() for name in HAS_MODEL)


def has_step_checkpoints(folder: Path) -> bool:
    return any(re.fullmatch(r"step_\d+", path.name) for path in (folder / CHECKPOINTS).glob("step_*"))


def listed(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def check_output_dir(output_dir: Path, overwrite: bool, resume: str | None, tracking: bool = False) -> None:
    """Refuse, before anything is written, a folder whose content this run could lose or would mix with its own."""
    if output_dir.exists() and not output_dir.is_dir():
        raise UserInputError(f"--output_dir {output_dir} is a file, not a folder")
    if not output_dir.exists():
        return
    foreign = foreign_entries(output_dir)
    owned = owned_entries(output_dir)
    if has_model(output_dir, owned) and not (overwrite or resume):
        raise UserInputError(
            f"--output_dir {output_dir} already holds a model; pass --overwrite_output_dir to replace it "
            f"or --resume_from_checkpoint latest to continue its run"
        )
    if foreign and not (overwrite or resume):
        raise UserInputError(
            f"--output_dir {output_dir} holds files this project did not write ({listed(foreign)}); choose a new "
            "or empty folder, or pass --overwrite_output_dir to write the model beside them (they are kept)"
        )
    ours_to_write = (*MODEL_ENTRIES, CHECKPOINTS, *((TRACKER_LOGS,) if tracking else ()))
    if clashes := [name for name in foreign if name in ours_to_write]:
        raise UserInputError(
            f"--output_dir {output_dir}: {listed(clashes)} there was not written by this project and a run would "
            "replace it; move it away or choose another folder"
        )
    if resume:
        return
    if CHECKPOINTS in owned and has_step_checkpoints(output_dir) and not overwrite:
        raise UserInputError(
            f"--output_dir {output_dir} holds the checkpoints of an unfinished run; pass --resume_from_checkpoint "
            "latest to continue it, or --overwrite_output_dir to start afresh"
        )


def prepare_output_dir(output_dir: Path, overwrite: bool, resume: str | None, tracking: bool = False) -> None:
    """Check the folder (check_output_dir), then make it ready: a fresh run starts with no training state of an
    earlier run (the earlier model itself stays until publish() replaces it)."""
    check_output_dir(output_dir, overwrite, resume, tracking)
    output_dir.mkdir(parents=True, exist_ok=True)
    owned = owned_entries(output_dir)
    if not resume and CHECKPOINTS in owned:
        shutil.rmtree(output_dir / CHECKPOINTS, ignore_errors=True)
    write_manifest(output_dir, owned | {CHECKPOINTS} | ({TRACKER_LOGS} if tracking else set()))
    (output_dir / CHECKPOINTS).mkdir(exist_ok=True)


def publish(output_dir: Path, write_files: Callable[[Path], None]) -> None:
    """Write the new model folder aside, carry over the training state and the user's files, swap it in by renames.

    Until the one rename that swaps the folders, the old model stays in place; afterwards only this project's old
    files are deleted. The user's own files are moved (renamed) into the new folder, never copied or deleted: if
    moving fails half-way, they wait in the hidden folder the error names.
    """
    owned = owned_entries(output_dir) if output_dir.exists() else set()
    work = Path(tempfile.mkdtemp(prefix=f".{output_dir.name}.publish-", dir=output_dir.parent))
    staging = work / "new"
    try:
        staging.mkdir()
        write_files(staging)
        written = {path.name for path in staging.iterdir()}
        carried = [
            path.name
            for path in (output_dir.iterdir() if output_dir.exists() else ())
            if path.name != MANIFEST and (path.name in STATE_ENTRIES or path.name not in owned)
        ]
        if clashes := sorted(set(carried) & written):
            raise UserInputError(
                f"--output_dir {output_dir}: {listed(clashes)} appeared there during training and would be "
                "replaced; move it away and rerun"
            )
        write_manifest(staging, written | (set(carried) & owned))
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)  # nothing but this run's new files is in it yet
        raise
    for name in carried:
        (output_dir / name).rename(staging / name)
    if output_dir.exists():
        output_dir.rename(work / "old")
    staging.rename(output_dir)
    shutil.rmtree(work)  # this project's old files only
