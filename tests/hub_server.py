"""A stand-in for the Hugging Face Hub's HTTP API on 127.0.0.1, for tests that drive the real clients.

It speaks enough of the protocol for `huggingface_hub`, `transformers` and `datasets` to create model, dataset and
Space repos, push commits (small text files inline, large or binary files through the Git LFS batch API with a
signed upload URL and a verify step), list trees, and download by branch, tag or commit id, with the response
headers the download code relies on (`X-Repo-Commit`, `ETag`, `X-Linked-Etag`/`X-Linked-Size`, `Range`).

As on the Hub, LFS downloads answer `/resolve/` with a redirect to a separate "storage" host carrying a signed URL,
so the client's real redirect handling runs: the storage host is `localhost`, the API host `127.0.0.1` (same port).

As strict as the Hub where a client bug would show: tokens need `Bearer `, an LFS object counts only for the repo
it was uploaded through, a declared LFS size must match, empty commits and non-numeric metric values in card
metadata are refused.

Deliberately left out: pull requests, pagination (every listing fits one page), Xet storage (clients must run with
`HF_HUB_DISABLE_XET=1`), gated repos, multipart LFS uploads. Not a security boundary: tokens are compared in memory.

Run it by hand with `python tests/hub_server.py --port 8080`; it prints the endpoint and token to use.
"""

from __future__ import annotations

import base64
import dataclasses
import fnmatch
import hashlib
import hmac
import json
import mimetypes
import re
import secrets
import shutil
import tempfile
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path, PurePosixPath
from urllib.parse import parse_qs, quote, unquote, urlsplit

import yaml

REPO_TYPES = ("model", "dataset", "space")
URL_PREFIX = {"model": "", "dataset": "datasets/", "space": "spaces/"}
SPACE_SDKS = ("gradio", "streamlit", "docker", "static")

# Files the Hub keeps in regular git must be small text; everything else goes through LFS.
MAX_REGULAR_FILE_SIZE = 10 * 1024 * 1024

# What the Hub writes into a new repo's .gitattributes (abridged); uploads matching it must use LFS.
DEFAULT_GITATTRIBUTES = "".join(
    f"{pattern} filter=lfs diff=lfs merge=lfs -text\n"
    for pattern in (
        "*.7z", "*.arrow", "*.bin", "*.bz2", "*.ckpt", "*.gz", "*.h5", "*.joblib", "*.msgpack", "*.npy", "*.npz",
        "*.onnx", "*.parquet", "*.pb", "*.pickle", "*.pkl", "*.pt", "*.pth", "*.safetensors", "*.tar", "*.tflite",
        "*.zip", "*.zst", "*tfevents*", "*.png", "*.jpg", "*.jpeg", "*.wav", "*.mp3",
    )
)  # fmt: skip

LFS_POINTER = "version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize {size}\n"
REPO_NAME = re.compile(r"^(?!.*(?:--|\.\.))[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?$")
YAML_BLOCK = re.compile(r"^\s*---[\r\n]+(.*?)[\r\n]+---[\r\n]*", re.DOTALL)
COMMIT_ID = re.compile(r"^[0-9a-f]{40}$")

# Subsets of the Hub's vocabularies, enough to catch typos in generated cards.
PIPELINE_TAGS = {
    "text-classification", "token-classification", "zero-shot-classification", "fill-mask", "question-answering",
    "summarization", "translation", "text-generation", "sentence-similarity", "feature-extraction",
    "image-classification", "automatic-speech-recognition", "audio-classification", "tabular-classification",
}  # fmt: skip
LICENSES = {
    "apache-2.0", "mit", "bsd-2-clause", "bsd-3-clause", "cc0-1.0", "cc-by-4.0", "cc-by-sa-4.0", "cc-by-nc-4.0",
    "cc-by-nc-sa-4.0", "cc-by-nc-nd-4.0", "gpl-3.0", "lgpl-3.0", "agpl-3.0", "mpl-2.0", "openrail", "unlicense",
    "other", "unknown",
}  # fmt: skip


def now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def git_blob_oid(content: bytes) -> str:
    """The id git gives a blob: sha1 over a `blob <size>` header and the content."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


def is_binary(sample: bytes) -> bool:
    if b"\0" in sample:
        return True
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut at the end of a 512-byte sample is still text.
        return error.start < len(sample) - 4
    return False


def split_front_matter(text: str) -> tuple[object, str | None]:
    """(metadata, error) of a README's YAML header; metadata is None without a header."""
    match = YAML_BLOCK.match(text)
    if not match:
        return None, None
    try:
        return yaml.safe_load(match.group(1)), None
    except yaml.YAMLError as error:
        return None, f"YAML is invalid: {error}".replace("\n", " ")


class HubError(Exception):
    """An HTTP error answer, with the `X-Error-Code` the client maps to its exception types."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str | None = None,
        headers: dict | None = None,
        extra: dict | None = None,
    ):
        super().__init__(message)
        self.status, self.message, self.code, self.headers = status, message, code, headers or {}
        self.extra = extra or {}  # more JSON fields, e.g. the `url` of a repo that already exists


@dataclasses.dataclass(frozen=True)
class HubUser:
    name: str
    token: str
    orgs: tuple[str, ...] = ()
    can_write: bool = True

    def owns(self, namespace: str) -> bool:
        return namespace == self.name or namespace in self.orgs


@dataclasses.dataclass(frozen=True)
class FileEntry:
    size: int
    sha256: str  # locates the content in the object store
    oid: str  # git blob id (of the LFS pointer for LFS files), as listed by the tree API
    lfs: bool

    @classmethod
    def regular(cls, content: bytes) -> FileEntry:
        return cls(len(content), hashlib.sha256(content).hexdigest(), git_blob_oid(content), lfs=False)

    @classmethod
    def lfs_object(cls, sha256: str, size: int) -> FileEntry:
        pointer = LFS_POINTER.format(oid=sha256, size=size).encode()
        return cls(size, sha256, git_blob_oid(pointer), lfs=True)

    @property
    def pointer_size(self) -> int:
        return len(LFS_POINTER.format(oid=self.sha256, size=self.size))

    @property
    def etag(self) -> str:
        # The Hub's ETag is the git blob id for regular files and the LFS sha256 for LFS files.
        return self.sha256 if self.lfs else self.oid


@dataclasses.dataclass
class Commit:
    id: str
    parent: str | None
    title: str
    message: str
    author: str
    date: str
    files: dict[str, FileEntry]
    changed: tuple[str, ...]  # paths added, modified or deleted by this commit


@dataclasses.dataclass
class Repo:
    type: str
    id: str
    private: bool
    sdk: str | None
    created_at: str
    branches: dict[str, str] = dataclasses.field(default_factory=dict)
    tags: dict[str, str] = dataclasses.field(default_factory=dict)
    commits: dict[str, Commit] = dataclasses.field(default_factory=dict)
    lfs_objects: set[str] = dataclasses.field(default_factory=set)  # uploaded and verified for this repo
    lfs_uploads: set[str] = dataclasses.field(default_factory=set)  # PUT through this repo's signed URLs
    variables: dict[str, dict] = dataclasses.field(
        default_factory=dict
    )  # a Space's variables (key -> value...)

    @property
    def namespace(self) -> str:
        return self.id.split("/")[0]

    def resolve(self, revision: str) -> Commit:
        revision = revision.removeprefix("refs/heads/").removeprefix("refs/tags/")
        commit_id = self.branches.get(revision) or self.tags.get(revision)
        if commit_id is None and COMMIT_ID.match(revision) and revision in self.commits:
            commit_id = revision
        if commit_id is None:
            raise HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")
        return self.commits[commit_id]

    def history(self, commit: Commit):
        while commit is not None:
            yield commit
            commit = self.commits.get(commit.parent) if commit.parent else None


class HubState:
    """Repos, commits and the content-addressed object store, shared by all request threads."""

    def __init__(self, root: Path, users: list[HubUser]):
        self.root = root
        self.objects = root / "objects"
        self.objects.mkdir(parents=True, exist_ok=True)
        self.users = {user.token: user for user in users}
        self.repos: dict[tuple[str, str], Repo] = {}
        self.lock = threading.RLock()
        self.signing_key = secrets.token_bytes(16)
        self.stats = {"lfs_uploads": 0, "lfs_verifies": 0, "commits": 0}
        # Cleared by a test to play a Hub that takes commit requests and never answers (until set again).
        self.answer_commits = threading.Event()
        self.answer_commits.set()
        self.requests: list[tuple[str, str, int]] = []  # (method, path, status), for debugging and assertions

    # --- object store ---
    def object_path(self, sha256: str) -> Path:
        return self.objects / sha256

    def store(self, content: bytes) -> str:
        sha256 = hashlib.sha256(content).hexdigest()
        path = self.object_path(sha256)
        if not path.exists():
            partial = path.with_suffix(f".{threading.get_ident()}.partial")
            partial.write_bytes(content)
            partial.replace(path)
        return sha256

    def read(self, entry: FileEntry) -> bytes:
        return self.object_path(entry.sha256).read_bytes()

    def sign(self, sha256: str, method: str, expires: int, repo: str = "") -> str:
        message = f"{method}:{sha256}:{expires}:{repo}".encode()
        return hmac.new(self.signing_key, message, "sha256").hexdigest()

    # --- repos and commits ---
    def get_repo(self, repo_type: str, repo_id: str) -> Repo:
        repo = self.repos.get((repo_type, repo_id))
        if repo is None:
            raise HubError(404, "Repository not found", "RepoNotFound")
        return repo

    def create_repo(self, repo_type: str, repo_id: str, private: bool, sdk: str | None, author: str) -> Repo:
        with self.lock:
            if (repo_type, repo_id) in self.repos:
                raise HubError(409, f"You already created this {repo_type} repo")
            repo = Repo(repo_type, repo_id, private, sdk, now_iso())
            self.repos[(repo_type, repo_id)] = repo
            gitattributes = FileEntry.regular(DEFAULT_GITATTRIBUTES.encode())
            self.store(DEFAULT_GITATTRIBUTES.encode())
            self.add_commit(repo, "main", {".gitattributes": gitattributes}, "initial commit", "", author)
            return repo

    def add_commit(
        self, repo: Repo, branch: str, files: dict, title: str, message: str, author: str
    ) -> Commit:
        parent = repo.commits.get(repo.branches.get(branch, ""))
        old = parent.files if parent else {}
        changed = tuple(sorted(p for p in old.keys() | files.keys() if old.get(p) != files.get(p)))
        date = now_iso()
        tree = "".join(f"{path} {entry.oid}\n" for path, entry in sorted(files.items()))
        header = f"tree {hashlib.sha1(tree.encode()).hexdigest()}\nparent {parent.id if parent else ''}\n"
        commit_id = hashlib.sha1(
            f"{header}author {author} {date}\n\n{title}\n\n{message}".encode()
        ).hexdigest()
        commit = Commit(
            commit_id, parent.id if parent else None, title, message, author, date, files, changed
        )
        repo.commits[commit_id] = commit
        repo.branches[branch] = commit_id
        self.stats["commits"] += 1
        return commit

    def lfs_patterns(self, commit: Commit) -> list[str]:
        entry = commit.files.get(".gitattributes")
        text = self.read(entry).decode("utf-8", "replace") if entry else ""
        return [line.split()[0] for line in text.splitlines() if "filter=lfs" in line and line.split()]

    def must_use_lfs(self, commit: Commit, path: str, size: int, sample: bytes) -> bool:
        name = PurePosixPath(path).name
        tracked = any(fnmatch.fnmatch(name, p) or fnmatch.fnmatch(path, p) for p in self.lfs_patterns(commit))
        return tracked or size > MAX_REGULAR_FILE_SIZE or is_binary(sample)


# ---------------------------------------------------------------------------------------------------------------
# Hub card metadata validation (what /api/validate-yaml and README commits check)
# ---------------------------------------------------------------------------------------------------------------


def _check_strings(meta: dict, keys: tuple[str, ...], errors: list[str]) -> None:
    for key in keys:
        if key in meta and not isinstance(meta[key], str):
            errors.append(f'"{key}" must be a string')


def _check_string_lists(meta: dict, keys: tuple[str, ...], errors: list[str]) -> None:
    for key in keys:
        value = meta.get(key)
        if value is None or isinstance(value, str):
            continue
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            errors.append(f'"{key}" must be a string or a list of strings')


def _check_model_index(model_index: object, errors: list[str]) -> None:
    if not isinstance(model_index, list):
        errors.append('"model-index" must be an array')
        return
    for i, model in enumerate(model_index):
        where = f"model-index[{i}]"
        if not isinstance(model, dict) or not isinstance(model.get("name"), str):
            errors.append(f'"{where}.name" is required and must be a string')
            continue
        for j, result in enumerate(model.get("results") or []):
            where_result = f"{where}.results[{j}]"
            task, dataset = result.get("task") or {}, result.get("dataset") or {}
            if not isinstance(task.get("type"), str):
                errors.append(f'"{where_result}.task.type" is required')
            for field in ("type", "name"):
                if not isinstance(dataset.get(field), str):
                    errors.append(f'"{where_result}.dataset.{field}" is required')
            metrics = result.get("metrics")
            if not isinstance(metrics, list) or not metrics:
                errors.append(f'"{where_result}.metrics" must be a non-empty array')
                continue
            for k, metric in enumerate(metrics):
                if not isinstance(metric.get("type"), str):
                    errors.append(f'"{where_result}.metrics[{k}].type" is required')
                value = metric.get("value")
                if value is None:
                    errors.append(f'"{where_result}.metrics[{k}].value" is required')
                elif isinstance(value, bool) or not isinstance(value, (int, float)):
                    errors.append(f'"{where_result}.metrics[{k}].value" must be a number, got {value!r}')


def validate_metadata(content: str, repo_type: str) -> tuple[list[str], list[str]]:
    """(errors, warnings) for a README's metadata, in the spirit of the Hub's own checks."""
    meta, error = split_front_matter(content)
    if error:
        return [error], []
    if meta is None:
        if repo_type == "space":
            return ['Spaces need a YAML header with "sdk"'], []
        return [], ["Empty metadata: add a YAML header to describe the repo"]
    if not isinstance(meta, dict):
        return ["Metadata must be a YAML mapping"], []
    errors: list[str] = []
    _check_strings(meta, ("library_name", "pipeline_tag", "model_name", "sdk", "app_file", "title"), errors)
    _check_string_lists(meta, ("tags", "datasets", "metrics", "language", "models", "base_model"), errors)
    if "license" in meta and meta["license"] not in LICENSES:
        errors.append(f'"license" must be one of the Hub\'s license ids, got {meta["license"]!r}')
    if repo_type == "model" and "pipeline_tag" in meta and meta["pipeline_tag"] not in PIPELINE_TAGS:
        errors.append(f'"pipeline_tag" is not a known task: {meta["pipeline_tag"]!r}')
    if repo_type == "space" and meta.get("sdk") not in SPACE_SDKS:
        errors.append(f'"sdk" must be one of {", ".join(SPACE_SDKS)}')
    widget = meta.get("widget")
    if widget is not None and not (
        isinstance(widget, list)
        and all(isinstance(w, dict) and isinstance(w.get("text"), str) for w in widget)
    ):
        errors.append('"widget" must be a list of {text: ...} entries')
    if "model-index" in meta:
        _check_model_index(meta["model-index"], errors)
    return errors, []


# ---------------------------------------------------------------------------------------------------------------
# HTTP
# ---------------------------------------------------------------------------------------------------------------

_API_REPO = re.compile(r"^/api/(models|datasets|spaces)/([^/]+)/([^/]+)(/.*)?$")
_RESOLVE = re.compile(r"^/(?:(datasets|spaces)/)?([^/]+)/([^/]+)/resolve/([^/]+)/(.+)$")
_LFS = re.compile(r"^/(?:(datasets|spaces)/)?([^/]+)/([^/]+?)\.git/info/lfs/objects/(batch|verify)$")
_STORAGE = re.compile(r"^/lfs-storage/([0-9a-f]{64})$")


def _repo_type(plural_or_prefix: str | None) -> str:
    return {None: "model", "models": "model", "datasets": "dataset", "spaces": "space"}[plural_or_prefix]


class _Request:
    def __init__(self, handler: HubRequestHandler, method: str, body: bytes):
        parts = urlsplit(handler.path)
        self.method, self.path, self.body = method, parts.path, body
        self.query = parse_qs(parts.query)
        self.headers = handler.headers
        self.base_url = f"http://{handler.headers.get('Host', '127.0.0.1')}"

    def json(self) -> dict:
        try:
            value = json.loads(self.body or b"{}")
        except ValueError as error:
            raise HubError(400, f"Invalid JSON body: {error}") from error
        if not isinstance(value, dict):
            raise HubError(400, "JSON body must be an object")
        return value

    def flag(self, name: str) -> bool:
        return self.query.get(name, ["false"])[-1].lower() in ("1", "true")


class HubRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the clients' connection pools expect
    server: _HubHTTPServer

    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass  # the state keeps a request log; stderr noise would drown test output

    def do_GET(self):
        self._handle("GET")

    def do_HEAD(self):
        self._handle("HEAD")

    def do_POST(self):
        self._handle("POST")

    def do_PUT(self):
        self._handle("PUT")

    def do_DELETE(self):
        self._handle("DELETE")

    # --- plumbing ---
    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _handle(self, method: str) -> None:
        # Read the whole body first, even for requests answered with an error: otherwise the leftover bytes are
        # parsed as the next request on this keep-alive connection.
        body = self._read_body()
        request = _Request(self, method, body)
        hub = self.server.hub
        try:
            # One router per request: it holds the request's user.
            status, payload, headers = HubRouter(hub).dispatch(request)
        except HubError as error:
            status, headers = error.status, {"X-Error-Message": error.message, **error.headers}
            if error.code:
                headers["X-Error-Code"] = error.code
            payload = {"error": error.message, **error.extra}
        except Exception as error:  # a bug in this server: answer 500 with the reason, keep serving
            status, payload, headers = 500, {"error": f"{type(error).__name__}: {error}"}, {}
        with hub.lock:
            hub.requests.append((method, self.path, status))
        self._send(status, payload, headers, head_only=method == "HEAD")

    def _send(self, status: int, payload, headers: dict, head_only: bool) -> None:
        if isinstance(payload, (dict, list)):
            body = json.dumps(payload).encode()
            headers.setdefault("Content-Type", "application/json; charset=utf-8")
        else:
            body = payload or b""
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, str(value))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head_only:
            self.wfile.write(body)


class _HubHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, hub: HubState):
        super().__init__(address, HubRequestHandler)
        self.hub = hub


class HubRouter:
    """Maps a request to the state change or listing it asks for. Returns (status, payload, headers)."""

    def __init__(self, hub: HubState):
        self.hub = hub
        self.user: HubUser | None = None

    def dispatch(self, request: _Request):
        path = request.path
        if match := _STORAGE.match(path):
            return self.storage(request, match.group(1))
        self.user = self.authenticate(request)
        if path == "/api/whoami-v2" and request.method == "GET":
            return self.whoami()
        if path == "/api/agent-harnesses" and request.method == "GET":
            return 200, {"standardEnvVars": [], "harnesses": {}}, {}  # huggingface_hub's user-agent registry
        if path == "/api/repos/create" and request.method == "POST":
            return self.create_repo(request)
        if path == "/api/repos/delete" and request.method in ("POST", "DELETE"):
            return self.delete_repo(request)
        if path == "/api/validate-yaml" and request.method == "POST":
            return self.validate_yaml(request)
        if match := _LFS.match(path):
            repo = self.repo_for_write(_repo_type(match.group(1)), f"{match.group(2)}/{match.group(3)}")
            return (
                self.lfs_batch(request, repo) if match.group(4) == "batch" else self.lfs_verify(request, repo)
            )
        if (match := _RESOLVE.match(path)) and request.method in ("GET", "HEAD"):
            repo_type, repo_id = (
                _repo_type(match.group(1)),
                f"{unquote(match.group(2))}/{unquote(match.group(3))}",
            )
            return self.resolve(
                request, self.repo_for_read(repo_type, repo_id), unquote(match.group(4)), match[5]
            )
        if match := _API_REPO.match(path):
            repo_type, repo_id = (
                _repo_type(match.group(1)),
                f"{unquote(match.group(2))}/{unquote(match.group(3))}",
            )
            return self.repo_api(request, repo_type, repo_id, match.group(4) or "")
        raise HubError(404, f"Not found: {request.method} {path}")

    # --- auth ---
    def authenticate(self, request: _Request) -> HubUser | None:
        header = request.headers.get("Authorization", "")
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        user = self.hub.users.get(token.strip()) if scheme == "Bearer" else None
        if user is None:
            raise HubError(401, "Invalid credentials in Authorization header")
        return user

    def require_writer(self, namespace: str) -> HubUser:
        if self.user is None:
            raise HubError(401, "You must be authenticated to do this (no token was sent)")
        if not self.user.can_write:
            raise HubError(403, "This token has read access only; a write token is needed")
        if not self.user.owns(namespace):
            raise HubError(403, f"You don't have the rights to write under the namespace {namespace!r}")
        return self.user

    def repo_for_read(self, repo_type: str, repo_id: str) -> Repo:
        repo = self.hub.get_repo(repo_type, repo_id)
        if repo.private and not (self.user and self.user.owns(repo.namespace)):
            raise HubError(404, "Repository not found", "RepoNotFound")
        return repo

    def repo_for_write(self, repo_type: str, repo_id: str) -> Repo:
        repo = self.repo_for_read(repo_type, repo_id)
        self.require_writer(repo.namespace)
        return repo

    # --- account and repo management ---
    def whoami(self):
        if self.user is None:
            raise HubError(401, "Invalid username or password.")
        role = "write" if self.user.can_write else "read"
        return (
            200,
            {
                "type": "user",
                "id": hashlib.sha1(self.user.name.encode()).hexdigest()[:24],
                "name": self.user.name,
                "fullname": self.user.name,
                "orgs": [{"type": "org", "name": org} for org in self.user.orgs],
                "auth": {"type": "access_token", "accessToken": {"displayName": "test", "role": role}},
            },
            {},
        )

    def create_repo(self, request: _Request):
        body = request.json()
        repo_type = body.get("type") or "model"
        name, namespace = body.get("name") or "", body.get("organization")
        if repo_type not in REPO_TYPES:
            raise HubError(400, f"Invalid repo type {repo_type!r}")
        if not REPO_NAME.match(name):
            raise HubError(400, f"Invalid repo name {name!r}: use letters, digits, '-', '_', '.' (max 96)")
        user = self.require_writer(namespace or (self.user.name if self.user else ""))
        sdk = body.get("sdk")
        if repo_type == "space" and sdk not in SPACE_SDKS:
            raise HubError(400, f"Spaces need an sdk among {', '.join(SPACE_SDKS)}")
        private = body.get("visibility") == "private" or bool(body.get("private"))
        repo_id = f"{namespace or user.name}/{name}"
        url = f"{request.base_url}/{URL_PREFIX[repo_type]}{repo_id}"
        try:
            self.hub.create_repo(repo_type, repo_id, private, sdk, user.name)
        except HubError as error:
            error.extra["url"] = url  # the client reads it even from the 409 it accepts with exist_ok=True
            raise
        return 200, {"url": url, "name": repo_id, "id": hashlib.sha1(repo_id.encode()).hexdigest()[:24]}, {}

    def delete_repo(self, request: _Request):
        body = request.json()
        repo_type = body.get("type") or "model"
        repo_id = f"{body.get('organization') or (self.user.name if self.user else '')}/{body.get('name')}"
        self.repo_for_write(repo_type, repo_id)
        with self.hub.lock:
            del self.hub.repos[(repo_type, repo_id)]
        return 200, {}, {}

    def validate_yaml(self, request: _Request):
        body = request.json()
        errors, warnings = validate_metadata(body.get("content") or "", body.get("repoType") or "model")
        payload = {"errors": [{"message": e} for e in errors], "warnings": [{"message": w} for w in warnings]}
        return (400 if errors else 200), payload, {}

    # --- per-repo API ---
    def repo_api(self, request: _Request, repo_type: str, repo_id: str, rest: str):
        method = request.method
        routes = (
            ("GET", r"(?:/revision/([^/]+))?", self.info),
            ("GET", r"/tree/([^/]+)(?:/(.*))?", self.tree),
            ("POST", r"/paths-info/([^/]+)", self.paths_info),
            ("GET", r"/commits/([^/]+)", self.commits),
            ("GET", r"/refs", self.refs),
            ("POST", r"/preupload/([^/]+)", self.preupload),
            ("POST", r"/commit/([^/]+)", self.commit),
            ("POST", r"/branch/([^/]+)", self.create_branch),
            ("DELETE", r"/branch/([^/]+)", self.delete_branch),
            ("POST", r"/tag/([^/]+)", self.create_tag),
            ("DELETE", r"/tag/([^/]+)", self.delete_tag),
            ("POST", r"/variables", self.add_variable),
        )
        for route_method, pattern, handler in routes:
            match = re.fullmatch(pattern, rest)
            if match and route_method == method:
                writes = method in ("POST", "DELETE") and handler != self.paths_info
                repo = (
                    self.repo_for_write(repo_type, repo_id)
                    if writes
                    else self.repo_for_read(repo_type, repo_id)
                )
                if handler == self.commit:
                    self.hub.answer_commits.wait(timeout=300)  # outside the lock: the server goes on serving
                with self.hub.lock:
                    return handler(request, repo, *(unquote(g) if g else g for g in match.groups()))
        raise HubError(404, f"Not found: {method} {request.path}")

    def info(self, request: _Request, repo: Repo, revision: str | None):
        commit = repo.resolve(revision or "main")
        readme = commit.files.get("README.md")
        card, _ = (
            split_front_matter(self.hub.read(readme).decode("utf-8", "replace")) if readme else (None, None)
        )
        card = card if isinstance(card, dict) else None
        info = {
            "_id": hashlib.sha1(repo.id.encode()).hexdigest()[:24],
            "id": repo.id,
            "author": repo.namespace,
            "sha": commit.id,
            "createdAt": repo.created_at,
            "lastModified": commit.date,
            "private": repo.private,
            "gated": False,
            "disabled": False,
            "downloads": 0,
            "likes": 0,
            "tags": self._tags(repo, commit, card),
            "cardData": card,
            "siblings": [self._sibling(path, entry) for path, entry in sorted(commit.files.items())],
            "usedStorage": sum(entry.size for entry in commit.files.values()),
        }
        info.update(self._type_specific_info(request, repo, commit, card or {}))
        if expand := request.query.get("expand[]") or request.query.get("expand"):
            info = {key: value for key, value in info.items() if key in ("_id", "id", *expand)}
        return 200, info, {}

    def _type_specific_info(self, request: _Request, repo: Repo, commit: Commit, card: dict) -> dict:
        if repo.type == "model":
            config = self._json_file(commit, "config.json") or {}
            kept = ("architectures", "model_type", "auto_map")
            return {
                "library_name": card.get("library_name"),
                "pipeline_tag": card.get("pipeline_tag"),
                "config": {key: config[key] for key in kept if key in config},
                "model-index": card.get("model-index"),
                "widgetData": card.get("widget"),
            }
        if repo.type == "space":
            return {
                "sdk": repo.sdk,
                "models": card.get("models"),
                "datasets": card.get("datasets"),
                "subdomain": repo.id.replace("/", "-").lower(),
                "host": f"{request.base_url}/spaces/{repo.id}",
                "runtime": {"stage": "BUILDING", "hardware": {"current": None, "requested": "cpu-basic"}},
            }
        return {"description": "", "citation": ""}

    def _tags(self, repo: Repo, commit: Commit, card: dict | None) -> list[str]:
        card = card or {}
        tags = list(card.get("tags") or [])
        if repo.type == "model" and "auto_map" in (self._json_file(commit, "config.json") or {}):
            tags.append("custom_code")
        for key, prefix in (("license", "license:"), ("datasets", "dataset:")):
            values = card.get(key) or []
            tags += [prefix + value for value in ([values] if isinstance(values, str) else values)]
        return list(dict.fromkeys(tag for tag in tags if isinstance(tag, str)))

    def _json_file(self, commit: Commit, path: str) -> dict | None:
        entry = commit.files.get(path)
        try:
            return json.loads(self.hub.read(entry)) if entry else None
        except ValueError:
            return None

    @staticmethod
    def _sibling(path: str, entry: FileEntry) -> dict:
        sibling = {"rfilename": path, "size": entry.size, "blobId": entry.oid}
        if entry.lfs:
            sibling["lfs"] = {"size": entry.size, "sha256": entry.sha256, "pointerSize": entry.pointer_size}
        return sibling

    def _entry_json(self, repo: Repo, commit: Commit, path: str, expand: bool) -> dict:
        entry = commit.files.get(path)
        if entry is None:  # a folder
            children = sorted((p, e.oid) for p, e in commit.files.items() if p.startswith(path + "/"))
            oid = hashlib.sha1(json.dumps(children).encode()).hexdigest()
            item = {"type": "directory", "oid": oid, "size": 0, "path": path}
        else:
            item = {"type": "file", "oid": entry.oid, "size": entry.size, "path": path}
            if entry.lfs:
                item["lfs"] = {"oid": entry.sha256, "size": entry.size, "pointerSize": entry.pointer_size}
        if expand:
            last = self._last_commit_touching(repo, commit, path)
            item["lastCommit"] = {"id": last.id, "title": last.title, "date": last.date}
        return item

    @staticmethod
    def _last_commit_touching(repo: Repo, commit: Commit, path: str) -> Commit:
        last = commit
        for ancestor in repo.history(commit):
            if any(p == path or p.startswith(path + "/") for p in ancestor.changed):
                return ancestor
            last = ancestor
        return last

    @staticmethod
    def _folders(commit: Commit) -> set[str]:
        return {
            str(parent)
            for path in commit.files
            for parent in PurePosixPath(path).parents
            if str(parent) != "."
        }

    def tree(self, request: _Request, repo: Repo, revision: str, folder: str | None):
        commit = repo.resolve(revision)
        folder = (folder or "").strip("/")
        folders = self._folders(commit)
        if folder and folder not in folders:
            raise HubError(404, f"Entry not found: {folder}", "EntryNotFound", {"X-Repo-Commit": commit.id})
        prefix = f"{folder}/" if folder else ""
        candidates = [p for p in sorted(folders | commit.files.keys()) if p.startswith(prefix)]
        if not request.flag("recursive"):
            candidates = [p for p in candidates if "/" not in p[len(prefix) :]]
        expand = request.flag("expand")
        return 200, [self._entry_json(repo, commit, p, expand) for p in candidates], {}

    def paths_info(self, request: _Request, repo: Repo, revision: str):
        commit = repo.resolve(revision)
        if request.headers.get("Content-Type", "").startswith("application/json"):
            body = request.json()
            paths, expand = body.get("paths") or [], bool(body.get("expand"))
        else:
            form = parse_qs(request.body.decode())
            paths, expand = form.get("paths", []), form.get("expand", ["False"])[-1].lower() == "true"
        folders = self._folders(commit)
        found = [p.strip("/") for p in paths if p.strip("/") in commit.files or p.strip("/") in folders]
        return 200, [self._entry_json(repo, commit, p, expand) for p in found], {}

    def commits(self, request: _Request, repo: Repo, revision: str):
        items = [
            {
                "id": c.id,
                "title": c.title,
                "message": c.message,
                "authors": [{"user": c.author}],
                "date": c.date,
            }
            for c in repo.history(repo.resolve(revision))
        ]
        return 200, items, {}

    def refs(self, request: _Request, repo: Repo):
        def refs_of(kind: str, refs: dict) -> list[dict]:
            return [
                {"name": n, "ref": f"refs/{kind}/{n}", "targetCommit": c} for n, c in sorted(refs.items())
            ]

        payload = {
            "branches": refs_of("heads", repo.branches),
            "tags": refs_of("tags", repo.tags),
            "converts": [],
        }
        payload["pullRequests"] = []
        return 200, payload, {}

    def create_branch(self, request: _Request, repo: Repo, branch: str):
        if branch in repo.branches:
            raise HubError(409, f"Reference already exists: refs/heads/{branch}")
        if not REPO_NAME.match(branch.replace("/", "-")):
            raise HubError(400, f"Invalid branch name {branch!r}")
        start = request.json().get("startingPoint") or "main"
        repo.branches[branch] = repo.resolve(start).id
        return 200, {}, {}

    def delete_branch(self, request: _Request, repo: Repo, branch: str):
        if branch == "main" or branch not in repo.branches:
            raise HubError(400 if branch == "main" else 404, f"Cannot delete branch {branch!r}")
        del repo.branches[branch]
        return 200, {}, {}

    def add_variable(self, request: _Request, repo: Repo):
        if repo.type != "space":
            raise HubError(404, "Variables exist for Spaces only")
        body = request.json()
        key, value = body.get("key"), body.get("value")
        if (
            not isinstance(key, str)
            or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key)
            or not isinstance(value, str)
        ):
            raise HubError(400, "A variable needs a key (letters, digits, _) and a string value")
        repo.variables[key] = {"value": value, "description": body.get("description"), "updatedAt": now_iso()}
        return 200, dict(repo.variables), {}

    def create_tag(self, request: _Request, repo: Repo, revision: str):
        tag = request.json().get("tag") or ""
        if tag in repo.tags:
            raise HubError(409, f"Tag already exists: {tag}")
        repo.tags[tag] = repo.resolve(revision).id
        return 200, {}, {}

    def delete_tag(self, request: _Request, repo: Repo, tag: str):
        if repo.tags.pop(tag, None) is None:
            raise HubError(404, f"Tag not found: {tag}", "RevisionNotFound")
        return 200, {}, {}

    # --- uploads ---
    def _branch_head(self, repo: Repo, revision: str) -> Commit:
        if revision not in repo.branches:
            commit = repo.resolve(revision)  # 404 if it does not exist at all
            raise HubError(
                400, f"Invalid rev id: {revision} is {commit.id[:7]}, not a branch; commit to a branch"
            )
        return repo.resolve(revision)

    def preupload(self, request: _Request, repo: Repo, revision: str):
        head = self._branch_head(repo, revision)
        body = request.json()
        ignore = body.get("gitIgnore")
        if ignore is None and ".gitignore" in head.files:
            ignore = self.hub.read(head.files[".gitignore"]).decode("utf-8", "replace")
        ignore_patterns = [
            line.strip() for line in (ignore or "").splitlines() if line.strip()[:1] not in ("", "#")
        ]
        files = []
        for item in body.get("files") or []:
            path, size = item["path"], int(item["size"])
            lfs = self.hub.must_use_lfs(head, path, size, base64.b64decode(item.get("sample") or ""))
            existing = head.files.get(path)
            files.append(
                {
                    "path": path,
                    "uploadMode": "lfs" if lfs else "regular",
                    "shouldIgnore": any(fnmatch.fnmatch(path, pattern) for pattern in ignore_patterns),
                    # The client skips unchanged files by comparing this with its own sha256 (LFS) or git oid.
                    "oid": (existing.sha256 if existing.lfs else existing.oid) if existing else None,
                }
            )
        return 200, {"files": files, "commitOid": head.id}, {}

    def lfs_batch(self, request: _Request, repo: Repo):
        body = request.json()
        if body.get("operation") != "upload":
            raise HubError(400, "Only the 'upload' operation is supported by this server")
        objects = []
        for item in body.get("objects") or []:
            oid, size = str(item.get("oid")), int(item.get("size") or 0)
            answer = {"oid": oid, "size": size, "authenticated": True}
            stored = self.hub.object_path(oid)
            already = oid in repo.lfs_objects and stored.exists() and stored.stat().st_size == size
            if not already:
                expires = int(time.time()) + 3600
                # The signed URL names the repo: an upload counts for that repo only, as on the Hub.
                where = f"{repo.type}:{repo.id}"
                signature = self.hub.sign(oid, "PUT", expires, where)
                query = f"expires={expires}&signature={signature}&size={size}&repo={quote(where)}"
                storage = f"{request.base_url.replace('127.0.0.1', 'localhost')}/lfs-storage/{oid}?{query}"
                verify = f"{request.base_url}/{URL_PREFIX[repo.type]}{repo.id}.git/info/lfs/objects/verify"
                answer["actions"] = {
                    "upload": {"href": storage, "expires_in": 3600},
                    "verify": {"href": verify},
                }
            objects.append(answer)
        headers = {"Content-Type": "application/vnd.git-lfs+json"}
        return 200, {"transfer": "basic", "objects": objects, "hash_algo": "sha256"}, headers

    def lfs_verify(self, request: _Request, repo: Repo):
        body = request.json()
        oid, size = str(body.get("oid")), int(body.get("size") or -1)
        stored = self.hub.object_path(oid)
        if oid not in repo.lfs_uploads or not stored.exists() or stored.stat().st_size != size:
            raise HubError(404, f"LFS object {oid} of size {size} was not uploaded to this repo")
        with self.hub.lock:
            repo.lfs_objects.add(oid)
            self.hub.stats["lfs_verifies"] += 1
        return 200, {"success": True}, {}

    def commit(self, request: _Request, repo: Repo, revision: str):
        if request.flag("create_pr"):
            raise HubError(400, "Pull requests are not supported by this test server")
        head = self._branch_head(repo, revision)
        lines = [json.loads(line) for line in request.body.splitlines() if line.strip()]
        if not lines or lines[0].get("key") != "header":
            raise HubError(400, "The commit payload must start with a header line")
        if len(lines) == 1:
            raise HubError(400, "No files have been modified: a commit needs at least one operation")
        header = lines[0]["value"]
        if header.get("parentCommit") and header["parentCommit"] != head.id:
            raise HubError(412, "A commit has happened since the parent commit. Please pull and retry")
        files = dict(head.files)
        for line in lines[1:]:
            self._apply_operation(repo, head, files, line.get("key"), line.get("value") or {})
        commit = self.hub.add_commit(
            repo,
            revision,
            files,
            header.get("summary") or "",
            header.get("description") or "",
            self.user.name,
        )
        url = f"{request.base_url}/{URL_PREFIX[repo.type]}{repo.id}/commit/{commit.id}"
        return 200, {"success": True, "commitOid": commit.id, "commitUrl": url, "hookOutput": ""}, {}

    def _apply_operation(self, repo: Repo, head: Commit, files: dict, key: str, value: dict) -> None:
        path = str(value.get("path") or "").strip("/")
        if not path or ".." in path.split("/") or path.startswith(".git/"):
            raise HubError(400, f"Invalid path in repo: {path!r}")
        if key == "file":
            content = base64.b64decode(value.get("content") or "")
            if content and self.hub.must_use_lfs(head, path, len(content), content[:512]):
                # What the Hub answers a git push of a binary or LFS-tracked file outside LFS.
                raise HubError(400, f"Your push was rejected: {path} must be stored with Git LFS")
            if path == "README.md":
                errors, _ = validate_metadata(content.decode("utf-8", "replace"), repo.type)
                if errors:
                    raise HubError(
                        400, "Invalid metadata in README.md.\n" + "\n".join(f"- {e}" for e in errors)
                    )
            self.hub.store(content)
            files[path] = FileEntry.regular(content)
        elif key == "lfsFile":
            oid = str(value.get("oid"))
            if oid not in repo.lfs_objects:
                raise HubError(400, f"LFS object {oid} for {path} was not uploaded to this repo")
            size = self.hub.object_path(oid).stat().st_size
            if "size" in value and value["size"] != size:
                raise HubError(
                    400, f"LFS object {oid} for {path} has {size} bytes, not the declared {value['size']}"
                )
            files[path] = FileEntry.lfs_object(oid, size)
        elif key == "deletedFile":
            if files.pop(path, None) is None:
                raise HubError(404, f"A file with this name doesn't exist: {path}", "EntryNotFound")
        elif key == "deletedFolder":
            for existing in [p for p in files if p.startswith(path + "/")]:
                del files[existing]
        else:
            raise HubError(400, f"Unknown commit operation {key!r}")

    # --- downloads ---
    def resolve(self, request: _Request, repo: Repo, revision: str, raw_path: str):
        with self.hub.lock:
            commit = repo.resolve(revision)
        path = unquote(raw_path)
        entry = commit.files.get(path)
        headers = {"X-Repo-Commit": commit.id, "Access-Control-Expose-Headers": "X-Repo-Commit"}
        if entry is None:
            raise HubError(404, f"Entry not found: {path}", "EntryNotFound", headers)
        headers["ETag"] = f'"{entry.oid}"'
        if entry.lfs:
            # Like the Hub: redirect to signed storage on another host; the metadata travels on the redirect.
            expires = int(time.time()) + 3600
            signature = self.hub.sign(entry.sha256, "GET", expires)
            base = request.base_url.replace("127.0.0.1", "localhost")
            location = f"{base}/lfs-storage/{entry.sha256}?expires={expires}&signature={signature}"
            location += f"&filename={quote(PurePosixPath(path).name)}"
            headers.update(
                {"Location": location, "X-Linked-Etag": f'"{entry.sha256}"', "X-Linked-Size": entry.size}
            )
            return 302, f"Found. Redirecting to {location}".encode(), headers
        return self._serve_bytes(request, self.hub.read(entry), path, headers)

    def storage(self, request: _Request, sha256: str):
        """The "S3" side: signed PUT for uploads, signed GET/HEAD for downloads; no Authorization header."""
        query = {key: values[-1] for key, values in request.query.items()}
        method = "PUT" if request.method == "PUT" else "GET"
        expires = int(query.get("expires") or 0)
        signature = query.get("signature") or ""
        where = query.get("repo", "") if method == "PUT" else ""
        if expires < time.time() or not hmac.compare_digest(
            signature, self.hub.sign(sha256, method, expires, where)
        ):
            raise HubError(403, "Request signature does not match or has expired")
        if request.method == "PUT":
            if hashlib.sha256(request.body).hexdigest() != sha256 or len(request.body) != int(
                query.get("size", -1)
            ):
                raise HubError(400, "Uploaded content does not match the announced sha256 and size")
            self.hub.store(request.body)
            repo_type, _, repo_id = where.partition(":")
            with self.hub.lock:
                self.hub.get_repo(repo_type, repo_id).lfs_uploads.add(sha256)
                self.hub.stats["lfs_uploads"] += 1
            return 200, b"", {"ETag": f'"{sha256}"'}
        path = self.hub.object_path(sha256)
        if not path.exists():
            raise HubError(404, "No such object")
        return self._serve_bytes(
            request, path.read_bytes(), query.get("filename", sha256), {"ETag": f'"{sha256}"'}
        )

    @staticmethod
    def _serve_bytes(request: _Request, content: bytes, name: str, headers: dict):
        headers["Accept-Ranges"] = "bytes"
        headers["Content-Type"] = mimetypes.guess_type(name)[0] or "application/octet-stream"
        match = re.fullmatch(r"bytes=(\d*)-(\d*)", request.headers.get("Range", "").strip())
        if not match or not (match.group(1) or match.group(2)):
            return 200, content, headers
        size = len(content)
        if match.group(1):
            start = int(match.group(1))
            end = min(int(match.group(2)), size - 1) if match.group(2) else size - 1
        else:  # a suffix range: the last N bytes
            start, end = max(size - int(match.group(2)), 0), size - 1
        if start >= size or start > end:
            headers["Content-Range"] = f"bytes */{size}"
            return 416, b"", headers
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        return 206, content[start : end + 1], headers


class HubServer:
    """Owns the state and the HTTP server thread. `with HubServer() as hub: hub.endpoint, hub.token ...`."""

    def __init__(self, port: int = 0, users: list[HubUser] | None = None, root: Path | None = None):
        self.user = HubUser("test-user", "hf_" + secrets.token_urlsafe(24), orgs=("test-org",))
        self.read_only_user = HubUser("reader", "hf_" + secrets.token_urlsafe(24), can_write=False)
        self._tmp = None if root else tempfile.mkdtemp(prefix="hub-server-")
        self.state = HubState(Path(root or self._tmp), users or [self.user, self.read_only_user])
        self.httpd = _HubHTTPServer(("127.0.0.1", port), self.state)
        self.port = self.httpd.server_address[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="hub-server", daemon=True)

    @property
    def token(self) -> str:
        return self.user.token

    def start(self) -> HubServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> HubServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- inspection helpers for tests (no HTTP, no client library) ---
    def repo(self, repo_id: str, repo_type: str = "model") -> Repo:
        return self.state.get_repo(repo_type, repo_id)

    def files(self, repo_id: str, revision: str = "main", repo_type: str = "model") -> dict[str, FileEntry]:
        return dict(self.repo(repo_id, repo_type).resolve(revision).files)

    def read_file(self, repo_id: str, path: str, revision: str = "main", repo_type: str = "model") -> bytes:
        return self.state.read(self.files(repo_id, revision, repo_type)[path])

    def history(self, repo_id: str, revision: str = "main", repo_type: str = "model") -> list[Commit]:
        repo = self.repo(repo_id, repo_type)
        return list(repo.history(repo.resolve(revision)))

    def seed_repo(
        self, repo_id: str, files: dict[str, bytes], repo_type: str = "model", message: str = "Add files"
    ) -> str:
        """Create `repo_id` if needed and commit `files` to main directly, as if uploaded (binary files as LFS).

        Fast setup for tests that only need a repo to exist (a dataset for `load_dataset`, say); returns the
        commit id. Uploads that are themselves under test should go through the client instead."""
        state = self.state
        with state.lock:
            repo = state.repos.get((repo_type, repo_id))
            if repo is None:
                sdk = "gradio" if repo_type == "space" else None
                repo = state.create_repo(repo_type, repo_id, False, sdk, self.user.name)
            head = repo.resolve("main")
            entries = dict(head.files)
            for path, content in files.items():
                sha256 = state.store(content)
                if state.must_use_lfs(head, path, len(content), content[:512]):
                    repo.lfs_objects.add(sha256)
                    entries[path] = FileEntry.lfs_object(sha256, len(content))
                else:
                    entries[path] = FileEntry.regular(content)
            return state.add_commit(repo, "main", entries, message, "", self.user.name).id

    def stored_objects(self) -> list[Path]:
        return sorted(p for p in self.state.objects.iterdir() if not p.name.endswith(".partial"))


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description="Run the test Hub server in the foreground.")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    with HubServer(port=args.port) as hub:
        print(f"HF_ENDPOINT={hub.endpoint} HF_TOKEN={hub.token} HF_HUB_DISABLE_XET=1  (user {hub.user.name})")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
