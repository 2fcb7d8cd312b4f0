"""Publish a trained model folder (and the demo Space) to the Hugging Face Hub, one commit per push.

The repo gets what a user needs to load and judge the model: safetensors weights, config.json with `auto_map`, the
two remote-code files, the tokenizer, plots, all_results.json, training_args.yaml and a generated README.md card.
Training state (checkpoints/, runs/, optimizer and RNG states) stays local unless `include_checkpoints=True`.
The local folder is only read. Problems the user can fix raise `UserInputError` with a one-line message; the token
never appears in a message, a log line or an uploaded file.
"""

from __future__ import annotations

import fnmatch
import re
import tempfile
from contextlib import contextmanager
from pathlib import Path

import yaml
from huggingface_hub import CommitInfo, CommitOperationAdd, HfApi, SpaceCard, get_token, set_client_factory
from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled, RepositoryNotFoundError
from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status
from huggingface_hub.utils._http import default_client_factory

from .errors import UserInputError
from .model_card import build_model_card, load_run, redact_secrets
from .output_dir import read_manifest
from .serving import config_with_pipeline, serving_files

try:  # huggingface_hub >= 2 talks through httpx2, 1.x through httpx
    import httpx2 as _http
except ImportError:  # pragma: no cover - depends on the installed client
    import httpx as _http

# The Hub's repo name rules (huggingface_hub.utils.validate_repo_id), namespace and name alike.
_REPO_PART = re.compile(r"^(?!.*(?:--|\.\.))[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?$")
REQUIRED_FILES = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json")
# Training state: never needed to use the model, often large; uploaded only with include_checkpoints=True.
TRAINING_STATE = (
    "checkpoints/*", "runs/*", "checkpoint-*/*", "optimizer.pt", "optimizer.bin", "scheduler.pt", "scaler.pt",
    "rng_state*.pth", "random_states_*.pkl", "trainer_state.json", "*tfevents*",
)  # fmt: skip
NEVER_UPLOADED = (
    "README.md",
    ".*",
    "*/.*",
    "__pycache__/*",
    "*/__pycache__/*",
    "*.pyc",
    "*.partial",
    "*.lock",
)
SPACE_IGNORED = (".*", "*/.*", "__pycache__/*", "*/__pycache__/*", "*.pyc", "flagged/*", "README.md")
CONNECT_TIMEOUT_S = 10  # the client's session has no timeout; an unreachable endpoint must fail fast
# How long any one Hub request may go without an answer (the client's default is forever: a stalled commit hung).
HUB_TIMEOUT_S = 300.0


def validate_repo_id(repo_id: str, kind: str = "repo") -> str:
    parts = str(repo_id).split("/")
    if len(parts) != 2 or not all(_REPO_PART.match(part) for part in parts):
        raise UserInputError(
            f"{kind} id {repo_id!r} must look like 'namespace/name' (letters, digits, '-', '_', '.'; "
            "no '--' or '..'; at most 96 characters each)"
        )
    return repo_id


def validate_model_dir(model_dir: str | Path) -> Path:
    """The folder, if it holds a trained model that loads by repo id; else a UserInputError saying what is missing."""
    path = Path(model_dir)
    if not path.is_dir():
        raise UserInputError(f"--model_dir {str(model_dir)!r} is not a folder")
    missing = [name for name in REQUIRED_FILES if not (path / name).is_file()]
    if missing:
        raise UserInputError(
            f"{path} is not a trained model folder: missing {', '.join(missing)} (train with scripts/train.py, or "
            "save_pretrained the model and its tokenizer there)"
        )
    config = load_run(path).config
    auto_map = config.get("auto_map") or {}
    if "AutoModelForSequenceClassification" not in auto_map:
        raise UserInputError(f"{path}/config.json has no auto_map for AutoModelForSequenceClassification")
    code_files = sorted({reference.split(".")[0] + ".py" for reference in auto_map.values()})
    if missing := [name for name in code_files if not (path / name).is_file()]:
        raise UserInputError(f"{path} lacks the remote code files its auto_map names: {', '.join(missing)}")
    return path


def resolve_token(token: str | None) -> str:
    """`token`, else HF_TOKEN, else the stored login."""
    token = token or get_token()
    if not token:
        raise UserInputError("no Hugging Face token: pass --hub_token, set HF_TOKEN, or run `hf auth login`")
    return token


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@contextmanager
def _hub_errors(action: str, endpoint: str):
    """Turn the client's network and HTTP errors into one-line UserInputErrors (bugs keep their traceback)."""
    try:
        yield
    except OfflineModeIsEnabled as error:
        raise UserInputError(
            f"cannot {action}: HF_HUB_OFFLINE is set; unset it to talk to the Hub"
        ) from error
    except _http.TimeoutException as error:
        raise UserInputError(
            f"the Hub at {endpoint} stopped answering (timed out) when asked to {action}; it may or may not have "
            "happened: check the repo and try again (scripts/push_to_hub.py --timeout waits longer)"
        ) from error
    except _http.TransportError as error:
        raise UserInputError(
            f"cannot reach the Hub at {endpoint} to {action} ({type(error).__name__}: {_one_line(error, 120)}); "
            "check the network or HF_ENDPOINT"
        ) from error
    except RepositoryNotFoundError as error:
        raise UserInputError(
            f"cannot {action}: the repo does not exist or this token cannot see it"
        ) from error
    except HfHubHTTPError as error:
        status = error.response.status_code
        detail = _one_line(error.server_message or str(error).splitlines()[0], 200)
        if status == 401:
            raise UserInputError(
                "the Hub rejected the token (401 Unauthorized): check --hub_token, HF_TOKEN or `hf auth login`"
            ) from error
        if status == 403:
            raise UserInputError(f"this token may not {action} (403 Forbidden: {detail})") from error
        raise UserInputError(f"cannot {action}: the Hub answered {status} ({detail})") from error
    except ValueError as error:
        # The client raises ValueError when the Hub refuses the README's metadata.
        if "Invalid metadata" not in str(error):
            raise
        raise UserInputError(f"the Hub refused the model card's metadata: {_one_line(error)}") from error


def set_hub_timeout(seconds: float) -> None:
    """Give huggingface_hub's shared HTTP client a timeout for every request (its default waits forever)."""

    def client_with_timeout():
        client = default_client_factory()
        client.timeout = _http.Timeout(seconds, connect=CONNECT_TIMEOUT_S)
        return client

    set_client_factory(client_with_timeout)


def _whoami(api: HfApi) -> dict:
    """The token's user, orgs and role; a quick request that fails fast when the Hub is unreachable."""
    with _hub_errors("check the token", api.endpoint):
        response = get_session().get(
            f"{api.endpoint}/api/whoami-v2",
            headers=build_hf_headers(token=api.token),
            timeout=CONNECT_TIMEOUT_S,
        )
        hf_raise_for_status(response)
        return response.json()


def connect(token: str | None = None, endpoint: str | None = None, timeout: float = HUB_TIMEOUT_S) -> HfApi:
    """An authenticated HfApi whose token the Hub accepted; every later request of the client (huggingface_hub's
    shared session) gives up after `timeout` seconds without an answer."""
    set_hub_timeout(timeout)
    api = HfApi(endpoint=endpoint, token=resolve_token(token))
    _whoami(api)
    return api


def check_push_access(repo_id: str, token: str | None = None, endpoint: str | None = None) -> None:
    """Before hours of training: the token works, may write, and its user owns the repo's namespace (or is a
    member of that organisation). Raises UserInputError saying which check failed."""
    validate_repo_id(repo_id, kind="--hub_model_id")
    whoami = _whoami(HfApi(endpoint=endpoint, token=resolve_token(token)))
    user = whoami.get("name", "?")
    namespaces = [user, *(org.get("name") for org in whoami.get("orgs") or [])]
    namespace = repo_id.split("/")[0]
    if namespace not in namespaces:
        raise UserInputError(
            f"--hub_model_id {repo_id}: the token's user {user!r} cannot create repos under {namespace!r} "
            f"(it may under: {', '.join(namespaces)})"
        )
    if (whoami.get("auth") or {}).get("accessToken", {}).get("role") == "read":
        raise UserInputError(f"the token of {user!r} is read-only: pushing to {repo_id} needs a write token")


def _matches(path: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatch(path, pattern) for pattern in patterns)


def files_to_upload(model_dir: Path, include_checkpoints: bool = False) -> dict[str, Path]:
    """path in repo -> local file, for everything in the folder except training state (unless asked) and noise."""
    selected = {}
    written = read_manifest(
        model_dir
    )  # a folder train.py wrote: only its files, never the user's own beside them
    for path in sorted(p for p in model_dir.rglob("*") if p.is_file()):
        relative = path.relative_to(model_dir).as_posix()
        if written is not None and relative.split("/")[0] not in written:
            continue
        if _matches(relative, NEVER_UPLOADED) or (
            not include_checkpoints and _matches(relative, TRAINING_STATE)
        ):
            continue
        selected[relative] = path
    return selected


def _content(path_in_repo: str, path: Path) -> bytes | str:
    """What to upload for a file: the file itself, config.json with the fast pipeline registered, or for
    training_args.yaml a copy without credentials."""
    if path_in_repo == "config.json":
        return config_with_pipeline(path).encode()
    if path_in_repo != "training_args.yaml":
        return str(path)
    text = path.read_text(encoding="utf-8")
    parsed = yaml.safe_load(text)
    cleaned = redact_secrets(parsed)
    if cleaned == parsed:
        return str(path)
    return yaml.safe_dump(cleaned, sort_keys=False, allow_unicode=True).encode()


def onnx_operations(model_dir: Path) -> list[CommitOperationAdd]:
    """The model's ONNX export (modeling_lstm.onnx) under onnx/, Optimum's layout: model.onnx, config, tokenizer."""
    from .onnx import export_onnx

    with tempfile.TemporaryDirectory() as scratch:
        folder = export_onnx(str(model_dir), Path(scratch) / "onnx")
        return [
            CommitOperationAdd(path_in_repo=f"onnx/{path.name}", path_or_fileobj=path.read_bytes())
            for path in sorted(folder.iterdir())
        ]


def _refuse_token_leaks(operations: list[CommitOperationAdd], token: str) -> None:
    """Last line of defence: no uploaded text file may contain the token itself."""
    needle = token.encode()
    for operation in operations:
        data = operation.path_or_fileobj
        if isinstance(data, str):
            path = Path(data)
            if path.stat().st_size > 10 * 1024 * 1024:
                continue
            data = path.read_bytes()
        if needle in data:
            raise UserInputError(f"refusing to upload {operation.path_in_repo}: it contains your Hub token")


def push_to_hub(
    model_dir: str | Path,
    repo_id: str,
    token: str | None = None,
    private: bool = False,
    revision: str | None = None,
    commit_message: str | None = None,
    include_checkpoints: bool = False,
    endpoint: str | None = None,
    license: str = "apache-2.0",
    timeout: float = HUB_TIMEOUT_S,
    include_onnx: bool = False,
) -> CommitInfo:
    """Create `repo_id` if needed and upload the trained model folder and its card as one commit.

    `private` applies when the repo is created; `revision` names a branch, created from main if it is new.
    Files already on the Hub with the same content are not sent again (the client compares hashes). A request the
    Hub leaves unanswered for `timeout` seconds fails the push. The serving files (handler.py, the fast pipeline) come
    from this package; `include_onnx` adds a fresh export under onnx/.
    """
    validate_repo_id(repo_id)
    model_dir = validate_model_dir(model_dir)
    card = build_model_card(model_dir, repo_id, license=license, onnx=include_onnx)
    files = files_to_upload(model_dir, include_checkpoints) | serving_files()
    if include_onnx:  # the fresh export replaces any onnx/ folder the model folder holds
        files = {name: path for name, path in files.items() if not name.startswith("onnx/")}
    operations = [
        CommitOperationAdd(path_in_repo=name, path_or_fileobj=_content(name, path))
        for name, path in files.items()
    ]
    if include_onnx:
        operations += onnx_operations(model_dir)
    operations.append(CommitOperationAdd(path_in_repo="README.md", path_or_fileobj=str(card).encode()))
    api = connect(token, endpoint, timeout)
    _refuse_token_leaks(operations, api.token)
    with _hub_errors(f"create the model repo {repo_id}", api.endpoint):
        api.create_repo(repo_id, private=private, exist_ok=True)
    if revision:
        with _hub_errors(f"create the branch {revision!r} of {repo_id}", api.endpoint):
            api.create_branch(repo_id, branch=revision, exist_ok=True)
    with _hub_errors(f"push to {repo_id}", api.endpoint):
        return api.create_commit(
            repo_id,
            operations=operations,
            commit_message=commit_message or f"Upload LSTM text classifier from {model_dir.name}",
            revision=revision,
        )


def validate_space(space_dir: str | Path, space_id: str) -> Path:
    validate_repo_id(space_id, kind="Space")
    path = Path(space_dir)
    if missing := [name for name in ("app.py", "README.md") if not (path / name).is_file()]:
        raise UserInputError(f"{space_dir} is not a Space folder: missing {', '.join(missing)}")
    return path


def space_readme(readme_text: str, model_repo_id: str) -> str:
    """The Space's README with `models:` pointing at the model repo (the app loads the first entry)."""
    card = SpaceCard(readme_text, ignore_metadata_errors=True)
    if not card.data.get("sdk"):
        raise UserInputError("the Space's README.md needs a YAML header with 'sdk' (e.g. sdk: gradio)")
    card.data.models = [model_repo_id]
    return str(card)


def push_space(
    space_dir: str | Path,
    space_id: str,
    model_repo_id: str,
    model_revision: str | None = None,
    token: str | None = None,
    private: bool = False,
    endpoint: str | None = None,
    timeout: float = HUB_TIMEOUT_S,
) -> CommitInfo:
    """Create or update the Gradio Space `space_id` from `space_dir`, wired to `model_repo_id`, in one commit.

    The Space loads the model's code with trust_remote_code, so it is pinned to one commit of the model repo: the
    Space variable MODEL_REVISION gets the commit id of `model_revision` (a commit, branch or tag; default main)
    as it is now. A later push of changed model code then runs only once someone moves the pin.
    """
    validate_repo_id(model_repo_id, kind="model repo")
    space_dir = validate_space(space_dir, space_id)
    readme = space_readme((space_dir / "README.md").read_text(encoding="utf-8"), model_repo_id)
    sdk = SpaceCard(readme).data.get("sdk")
    operations = [
        CommitOperationAdd(path_in_repo=path.relative_to(space_dir).as_posix(), path_or_fileobj=str(path))
        for path in sorted(p for p in space_dir.rglob("*") if p.is_file())
        if not _matches(path.relative_to(space_dir).as_posix(), SPACE_IGNORED)
    ]
    operations.append(CommitOperationAdd(path_in_repo="README.md", path_or_fileobj=readme.encode()))
    api = connect(token, endpoint, timeout)
    _refuse_token_leaks(operations, api.token)
    with _hub_errors(f"find the commit of {model_repo_id} to pin the Space to", api.endpoint):
        pinned = api.model_info(model_repo_id, revision=model_revision).sha
    with _hub_errors(f"create the Space {space_id}", api.endpoint):
        api.create_repo(space_id, repo_type="space", space_sdk=sdk, private=private, exist_ok=True)
    with _hub_errors(f"push to the Space {space_id}", api.endpoint):
        commit = api.create_commit(
            space_id,
            repo_type="space",
            operations=operations,
            commit_message=f"Demo of {model_repo_id}@{pinned[:10]}",
        )
        description = f"The commit of {model_repo_id} the Space runs (its code runs with trust_remote_code)"
        api.add_space_variable(space_id, "MODEL_REVISION", pinned, description=description)
    return commit
