"""Publishing to the Hub, end to end against the Hub-protocol server, with the real clients in subprocesses."""

import hashlib
import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import torch
import yaml
from conftest import REPO_ROOT, TINY_TEXTS
from hub_fixtures import hub_subprocess_env, run_push_script, run_python, snapshot
from safetensors.torch import load_file, save_file

from modeling_lstm.cli import run_cli
from modeling_lstm.errors import UserInputError
from modeling_lstm.hub import files_to_upload, push_to_hub, resolve_token, validate_repo_id

PUSHED_FILES = {
    ".gitattributes",
    "README.md",
    "all_results.json",
    "batching.py",
    "config.json",
    "configuration_lstm.py",
    "confusion_matrix.png",
    "handler.py",
    "model.safetensors",
    "modeling_lstm.py",
    "pipeline_lstm.py",
    "tokenizer.json",
    "tokenizer_config.json",
    "training_args.yaml",
    "training_curves.png",
}
TEXTS = [TINY_TEXTS["positive"][0], TINY_TEXTS["negative"][0], "an unseen sentence about something else"]


def local_logits(model_dir) -> list:
    """Logits from the local folder, through the in-process (non-remote) classes."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir, trust_remote_code=True)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
    with torch.no_grad():
        return model(**tokenizer(TEXTS, padding=True, return_tensors="pt")).logits.tolist()


def assert_close(actual, expected):
    assert torch.allclose(torch.tensor(actual), torch.tensor(expected), atol=1e-6, rtol=0)


# --- the first push (session fixture `pushed_model`, shared with test_model_card.py) ---------------------------


def test_push_creates_the_repo_with_model_code_tokenizer_plots_results_and_card(pushed_model, hub_server):
    files = hub_server.files(pushed_model.repo_id)
    assert set(files) == PUSHED_FILES
    config = json.loads(hub_server.read_file(pushed_model.repo_id, "config.json"))
    assert (
        config["auto_map"]["AutoModelForSequenceClassification"]
        == "modeling_lstm.LSTMForSequenceClassification"
    )
    assert hub_server.read_file(pushed_model.repo_id, "README.md").startswith(b"---\n")
    # Weights and images travelled through LFS, as the Hub requires for binary files; text stayed in git.
    assert {path for path, entry in files.items() if entry.lfs} == {
        "model.safetensors",
        "training_curves.png",
        "confusion_matrix.png",
    }
    assert pushed_model.commit_id[:10] in pushed_model.result.stdout


def test_push_is_one_commit_on_top_of_the_repos_initial_commit(pushed_model, hub_server):
    history = hub_server.history(pushed_model.repo_id)
    assert [commit.title for commit in history] == [
        "Upload LSTM text classifier from tiny-run",
        "initial commit",
    ]
    assert set(history[0].changed) == PUSHED_FILES - {".gitattributes"}


def test_push_leaves_training_state_and_the_token_out(pushed_model, hub_server):
    assert (pushed_model.model_dir / "checkpoints").is_dir() and (pushed_model.model_dir / "runs").is_dir()
    assert not any(
        path.startswith(("checkpoints/", "runs/")) for path in hub_server.files(pushed_model.repo_id)
    )
    token = hub_server.token.encode()
    assert all(token not in path.read_bytes() for path in hub_server.stored_objects())
    assert hub_server.token not in pushed_model.result.stdout + pushed_model.result.stderr


def test_push_only_reads_the_local_folder(pushed_model):
    assert pushed_model.folder_after == pushed_model.folder_before


def test_include_checkpoints_selects_training_state(trained_model_dir):
    assert not any(name.startswith(("checkpoints/", "runs/")) for name in files_to_upload(trained_model_dir))
    with_state = files_to_upload(trained_model_dir, include_checkpoints=True)
    assert {"checkpoints/epoch_1/optimizer.bin", "runs/events.out.tfevents.1.host"} <= set(with_state)


# --- push again, to a branch, privately ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def second_push(pushed_model, hub_server, tmp_path_factory):
    """The same run retrained (other weights, better results) and pushed again to the same repo."""
    folder = tmp_path_factory.mktemp("retrained") / "tiny-run"
    shutil.copytree(pushed_model.model_dir, folder)
    weights = load_file(folder / "model.safetensors")
    save_file(
        {name: tensor + 0.05 for name, tensor in weights.items()},
        folder / "model.safetensors",
        {"format": "pt"},
    )
    results = json.loads((folder / "all_results.json").read_text())
    results.update(test_accuracy=0.9, test_macro_f1=0.88)
    (folder / "all_results.json").write_text(json.dumps(results))
    uploads_before, objects_before = hub_server.state.stats["lfs_uploads"], len(hub_server.stored_objects())
    env = hub_subprocess_env(hub_server, tmp_path_factory.mktemp("hf-home-second"))
    args = ["--model_dir", str(folder), "--repo_id", pushed_model.repo_id, "--commit_message", "Retrained"]
    result = run_push_script(args, env)
    assert result.returncode == 0, result.stderr[-3000:]
    return {
        "folder": folder,
        "lfs_uploads": hub_server.state.stats["lfs_uploads"] - uploads_before,
        "new_objects": len(hub_server.stored_objects()) - objects_before,
    }


def test_second_push_is_a_second_commit_that_sends_only_what_changed(second_push, pushed_model, hub_server):
    latest, previous = hub_server.history(pushed_model.repo_id)[:2]
    assert latest.title == "Retrained" and previous.id == pushed_model.commit_id
    assert set(latest.changed) == {"model.safetensors", "all_results.json", "README.md"}
    assert set(hub_server.files(pushed_model.repo_id)) == PUSHED_FILES
    # Only the new weights went through LFS again; unchanged files were not re-sent or stored twice.
    assert second_push["lfs_uploads"] == 1
    assert second_push["new_objects"] == 3
    assert b"| test | 90.00 | 88.00 |" in hub_server.read_file(pushed_model.repo_id, "README.md")


@pytest.fixture(scope="module")
def private_branch_push(trained_model_dir, hub_server, tmp_path_factory):
    repo_id = "test-org/lstm-tiny-private"
    env = hub_subprocess_env(hub_server, tmp_path_factory.mktemp("hf-home-private"))
    args = ["--model_dir", str(trained_model_dir), "--repo_id", repo_id, "--private"]
    result = run_push_script([*args, "--revision", "experiment", "--include_checkpoints"], env)
    assert result.returncode == 0, result.stderr[-3000:]
    return repo_id


def test_push_to_a_new_branch_of_a_private_repo_with_checkpoints(private_branch_push, hub_server):
    repo = hub_server.repo(private_branch_push)
    assert repo.private
    assert [commit.title for commit in hub_server.history(private_branch_push)] == ["initial commit"]
    branch_files = hub_server.files(private_branch_push, revision="experiment")
    assert "checkpoints/epoch_1/optimizer.bin" in branch_files and "model.safetensors" in branch_files


# --- loading by repo id in fresh processes ---------------------------------------------------------------------

LOAD_SCRIPT = """
import json, sys
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline

repo_id, first_commit, private_repo, texts = json.loads(sys.argv[1])

def logits(repo, **kwargs):
    tokenizer = AutoTokenizer.from_pretrained(repo, trust_remote_code=True, **kwargs)
    model = AutoModelForSequenceClassification.from_pretrained(repo, trust_remote_code=True, **kwargs).eval()
    with torch.no_grad():
        output = model(**tokenizer(texts, padding=True, return_tensors="pt")).logits.tolist()
    return output, type(model).__module__

classifier = pipeline("text-classification", model=repo_id, trust_remote_code=True)
print(json.dumps({
    "main": logits(repo_id),
    "pinned": logits(repo_id, revision=first_commit),
    "private_branch": logits(private_repo, revision="experiment"),
    "pipeline": classifier(texts, top_k=None),
}))
"""


@pytest.fixture(scope="module")
def loaded_remotely(second_push, private_branch_push, pushed_model, hub_server, tmp_path_factory):
    hub_env = hub_subprocess_env(hub_server, tmp_path_factory.mktemp("hf-home-load"))
    arguments = json.dumps([pushed_model.repo_id, pushed_model.commit_id, private_branch_push, TEXTS])
    result = run_python(LOAD_SCRIPT, hub_env, args=[arguments])
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_load_by_repo_id_runs_the_remote_code_with_identical_logits(loaded_remotely, second_push):
    logits, module = loaded_remotely["main"]
    assert module.startswith("transformers_modules.")  # the repo's code, not this package
    assert_close(logits, local_logits(second_push["folder"]))


def test_a_pinned_revision_loads_the_first_push(loaded_remotely, pushed_model):
    assert_close(loaded_remotely["pinned"][0], local_logits(pushed_model.model_dir))
    assert not torch.allclose(
        torch.tensor(loaded_remotely["pinned"][0]), torch.tensor(loaded_remotely["main"][0])
    )


def test_a_private_repos_branch_loads_with_the_token(loaded_remotely, trained_model_dir):
    assert_close(loaded_remotely["private_branch"][0], local_logits(trained_model_dir))


def test_pipeline_by_repo_id_uses_the_label_names(loaded_remotely, second_push):
    probabilities = torch.tensor(local_logits(second_push["folder"])).softmax(-1)
    for scores, expected in zip(loaded_remotely["pipeline"], probabilities, strict=True):
        by_label = {score["label"]: score["score"] for score in scores}
        assert set(by_label) == {"negative", "positive"}
        assert by_label["negative"] == pytest.approx(expected[0].item(), abs=1e-5)


# --- errors: one line on stderr, exit code 2, the folder untouched ---------------------------------------------


def load_script_module():
    spec = importlib.util.spec_from_file_location(
        "push_to_hub_script", REPO_ROOT / "scripts" / "push_to_hub.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def assert_one_line_error(stderr: str, *fragments: str) -> None:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.mark.parametrize(
    "arguments, fragments",
    [
        (["--repo_id", "lstm-tiny"], ["'namespace/name'"]),
        (["--repo_id", "a/b/c"], ["'namespace/name'"]),
        (["--repo_id", "user/bad--name"], ["'namespace/name'"]),
        (
            ["--repo_id", "user/ok", "--model_dir", "{empty}"],
            ["not a trained model folder", "model.safetensors"],
        ),
        (["--repo_id", "user/ok", "--model_dir", "{empty}/missing"], ["is not a folder"]),
        (["--repo_id", "user/ok", "--model_dir", "{model}"], ["no Hugging Face token", "HF_TOKEN"]),
        (["--model_dir", "{model}"], ["--repo_id is required"]),
    ],
)
def test_offline_errors_exit_2_with_one_line(
    arguments, fragments, trained_model_dir, tmp_path, monkeypatch, capsys
):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    arguments = [a.format(empty=tmp_path, model=trained_model_dir) for a in arguments]
    if "--model_dir" not in arguments:
        arguments += ["--model_dir", str(trained_model_dir)]
    before = snapshot(trained_model_dir)
    assert run_cli(load_script_module().main, arguments) == 2
    assert_one_line_error(capsys.readouterr().err, *fragments)
    assert snapshot(trained_model_dir) == before


def test_a_rejected_token_exits_2_without_echoing_it(trained_model_dir, hub_server, tmp_path):
    wrong_token = "hf_" + "x" * 34
    env = hub_subprocess_env(hub_server, tmp_path / "hf-home", token=wrong_token)
    before = snapshot(trained_model_dir)
    result = run_push_script(
        ["--model_dir", str(trained_model_dir), "--repo_id", "test-user/never-created"], env
    )
    assert result.returncode == 2
    assert_one_line_error(result.stderr, "rejected the token", "401")
    assert wrong_token not in result.stdout + result.stderr
    assert ("model", "test-user/never-created") not in hub_server.state.repos
    assert snapshot(trained_model_dir) == before


def test_an_unreachable_hub_fails_fast_with_a_clear_message(trained_model_dir, hub_server, tmp_path):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    env = hub_subprocess_env(hub_server, tmp_path / "hf-home")
    env["HF_ENDPOINT"] = f"http://127.0.0.1:{closed_port}"
    arguments = ["--model_dir", str(trained_model_dir), "--repo_id", "test-user/lstm-tiny"]
    result = run_push_script(arguments, env, timeout=120)  # a hang guard: no silent retry loop
    assert result.returncode == 2
    assert_one_line_error(result.stderr, f"cannot reach the Hub at http://127.0.0.1:{closed_port}")


def test_a_hub_that_never_answers_the_commit_fails_the_push_with_one_line(
    trained_model_dir, hub_server, hub_env
):
    hub_server.state.answer_commits.clear()
    try:
        arguments = [
            "--model_dir",
            str(trained_model_dir),
            "--repo_id",
            "test-user/stalled",
            "--timeout",
            "3",
        ]
        result = run_push_script(
            arguments, hub_env, timeout=120
        )  # the hang guard; the push's own limit is 3 s
    finally:
        hub_server.state.answer_commits.set()
    assert result.returncode == 2
    assert_one_line_error(result.stderr, "stopped answering (timed out)", "push to test-user/stalled")


def test_a_file_holding_the_token_is_never_uploaded(trained_model_dir, hub_server, hub_env, tmp_path):
    folder = tmp_path / "run"
    shutil.copytree(trained_model_dir, folder)
    (folder / "notes.txt").write_text(f"export HF_TOKEN={hub_server.token}\n")
    result = run_push_script(["--model_dir", str(folder), "--repo_id", "test-user/leaky"], hub_env)
    assert result.returncode == 2
    assert_one_line_error(result.stderr, "refusing to upload notes.txt: it contains your Hub token")
    assert hub_server.token not in result.stdout + result.stderr
    assert ("model", "test-user/leaky") not in hub_server.state.repos


@pytest.mark.parametrize(
    ("token", "repo_id", "fragments"),
    [
        ("hf_" + "x" * 34, "test-user/never-trained", ["rejected the token", "401"]),
        (
            "{writer}",
            "someone-else/model",
            ["user 'test-user' cannot create repos under 'someone-else'", "test-org"],
        ),
        ("{reader}", "reader/model", ["read-only", "write token"]),
    ],
    ids=["bad-token", "foreign-namespace", "read-only-token"],
)
def test_train_with_push_to_hub_checks_the_token_before_any_work(
    token, repo_id, fragments, hub_server, hub_env, tmp_path
):
    token = token.format(writer=hub_server.token, reader=hub_server.read_only_user.token)
    train_file = tmp_path / "train.csv"
    train_file.write_text("text,label\n" + "".join(f"text {i},{'ab'[i % 2]}\n" for i in range(20)))
    output_dir = tmp_path / "out"
    command = [
        sys.executable, "scripts/train.py", "--train_file", str(train_file), "--output_dir", str(output_dir),
        "--push_to_hub", "--hub_model_id", repo_id, "--hub_token", token,
    ]  # fmt: skip
    result = subprocess.run(command, cwd=REPO_ROOT, env=hub_env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    assert_one_line_error(result.stderr, *fragments)
    assert token not in result.stdout + result.stderr
    # Nothing written: no output folder, no other file.
    assert {path.name for path in tmp_path.iterdir()} <= {"train.csv", "hf-home"}


def test_repo_id_validation_accepts_hub_style_names():
    for repo_id in ("user/lstm-emotion", "Org_1/model.v2", "a/b"):
        assert validate_repo_id(repo_id) == repo_id
    for repo_id in ("", "user/", "/name", "user/-x", "user/x.", "user/a..b", "user/x" + "y" * 96, "user/a b"):
        with pytest.raises(UserInputError):
            validate_repo_id(repo_id)


def test_the_token_falls_back_to_the_stored_login(monkeypatch):
    from huggingface_hub import constants

    monkeypatch.delenv("HF_TOKEN", raising=False)
    with pytest.raises(UserInputError, match="no Hugging Face token"):
        resolve_token(None)
    stored = Path(constants.HF_TOKEN_PATH)
    if not stored.is_relative_to(os.environ["HF_HOME"]) or stored.exists():
        pytest.skip(
            f"{stored} is not a fresh file under the session's temporary HF_HOME: never touch a real login"
        )
    stored.parent.mkdir(parents=True, exist_ok=True)
    stored.write_text("hf_stored_login_token")
    try:
        assert resolve_token(None) == "hf_stored_login_token"
        assert resolve_token("hf_explicit") == "hf_explicit"
    finally:
        stored.unlink()


def test_push_to_hub_with_hub_offline_says_so(trained_model_dir, monkeypatch):
    # The test process itself runs with HF_HUB_OFFLINE=1: the library must say that, not hang or trace back.
    monkeypatch.setenv("HF_TOKEN", "hf_" + "y" * 34)
    with pytest.raises(UserInputError, match="HF_HUB_OFFLINE"):
        push_to_hub(trained_model_dir, "test-user/offline")


# --- the Space -------------------------------------------------------------------------------------------------

SPACE_README = """---
title: LSTM demo
sdk: gradio
app_file: app.py
models:
  - someone/else
---

# Demo
"""


def test_push_space_points_the_space_at_the_model(pushed_model, hub_server, hub_env, tmp_path):
    space_dir = tmp_path / "space"
    (space_dir / "__pycache__").mkdir(parents=True)
    (space_dir / "app.py").write_text("import os\nMODEL_ID = os.environ.get('MODEL_ID')\n")
    (space_dir / "requirements.txt").write_text("transformers\ntorch\n")
    (space_dir / "README.md").write_text(SPACE_README)
    (space_dir / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"\0compiled")
    args = [
        "--repo_id",
        pushed_model.repo_id,
        "--space_id",
        "test-user/lstm-tiny-demo",
        "--space_dir",
        str(space_dir),
    ]
    main_head = hub_server.history(pushed_model.repo_id)[0].id
    result = run_push_script(args, hub_env)
    assert result.returncode == 0, result.stderr[-3000:]
    repo = hub_server.repo("test-user/lstm-tiny-demo", repo_type="space")
    assert repo.sdk == "gradio"
    assert repo.variables["MODEL_REVISION"]["value"] == main_head  # the model's main as it was, by commit id
    files = hub_server.files(repo.id, repo_type="space")
    assert set(files) == {".gitattributes", "README.md", "app.py", "requirements.txt"}
    readme = hub_server.read_file(repo.id, "README.md", repo_type="space").decode()
    assert f"models:\n- {pushed_model.repo_id}\n" in readme and "someone/else" not in readme
    assert "title: LSTM demo" in readme and readme.rstrip().endswith("# Demo")
    assert (space_dir / "README.md").read_text() == SPACE_README


def test_a_space_pushed_with_its_model_stays_on_that_model_commit(trained_model_dir, hub_server, hub_env):
    repo_id, space_id = "test-user/lstm-pinned", "test-user/lstm-pinned-demo"
    both = ["--model_dir", str(trained_model_dir), "--repo_id", repo_id, "--space_id", space_id]
    result = run_push_script([*both, "--space_dir", str(REPO_ROOT / "space")], hub_env)
    assert result.returncode == 0, result.stderr[-3000:]
    pushed = hub_server.history(repo_id)[0].id
    assert hub_server.repo(space_id, repo_type="space").variables["MODEL_REVISION"]["value"] == pushed
    # A later push of the model (changed code, say) moves main, not the Space.
    hub_server.seed_repo(repo_id, {"modeling_lstm.py": b"raise SystemExit('new code')\n"})
    assert hub_server.history(repo_id)[0].id != pushed
    assert hub_server.repo(space_id, repo_type="space").variables["MODEL_REVISION"]["value"] == pushed


# --- the test server is as strict as the Hub where a client bug would show -------------------------------------


def hub_post(hub_server, path: str, token: str | None = None, **kwargs) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token or hub_server.token}"}
    return httpx.post(f"{hub_server.endpoint}{path}", headers=headers, timeout=30, **kwargs)


def upload_lfs_object(hub_server, repo_id: str, content: bytes) -> dict:
    """Announce, PUT and verify `content` as an LFS object of `repo_id`, as the client does; the batch answer."""
    oid = hashlib.sha256(content).hexdigest()
    batch = hub_post(
        hub_server,
        f"/{repo_id}.git/info/lfs/objects/batch",
        json={"operation": "upload", "objects": [{"oid": oid, "size": len(content)}]},
    )
    (answer,) = batch.json()["objects"]
    if "actions" in answer:
        httpx.put(answer["actions"]["upload"]["href"], content=content, timeout=30).raise_for_status()
        verify = hub_post(hub_server, answer["actions"]["verify"]["href"].removeprefix(hub_server.endpoint),
                          json={"oid": oid, "size": len(content)})  # fmt: skip
        verify.raise_for_status()
    return answer


def commit_ndjson(*operations: dict) -> bytes:
    lines = [{"key": "header", "value": {"summary": "test"}}, *operations]
    return "\n".join(json.dumps(line) for line in lines).encode()


@pytest.fixture
def new_repo(hub_server, request) -> str:
    name = f"strict-{request.node.name[-40:].strip('_').replace('_', '-')}"
    hub_post(hub_server, "/api/repos/create", json={"name": name, "type": "model"}).raise_for_status()
    return f"test-user/{name}"


def test_server_rejects_a_token_without_bearer(hub_server):
    url = f"{hub_server.endpoint}/api/whoami-v2"
    assert httpx.get(url, headers={"Authorization": hub_server.token}, timeout=30).status_code == 401
    assert (
        httpx.get(url, headers={"Authorization": f"Bearer {hub_server.token}"}, timeout=30).status_code == 200
    )


def test_server_keeps_lfs_objects_per_repo(hub_server, new_repo):
    content = b"\0weights only uploaded to repo A" * 8
    oid = hashlib.sha256(content).hexdigest()
    upload_lfs_object(hub_server, new_repo, content)
    other = "test-user/strict-other-repo"
    hub_post(hub_server, "/api/repos/create", json={"name": other.split("/")[1], "type": "model"})
    verify = hub_post(
        hub_server, f"/{other}.git/info/lfs/objects/verify", json={"oid": oid, "size": len(content)}
    )
    assert verify.status_code == 404
    lfs_file = {
        "key": "lfsFile",
        "value": {"path": "model.bin", "algo": "sha256", "oid": oid, "size": len(content)},
    }
    assert (
        hub_post(hub_server, f"/api/models/{other}/commit/main", content=commit_ndjson(lfs_file)).status_code
        == 400
    )
    assert "actions" in upload_lfs_object(
        hub_server, other, content
    )  # B must upload it itself, then may use it
    assert (
        hub_post(hub_server, f"/api/models/{other}/commit/main", content=commit_ndjson(lfs_file)).status_code
        == 200
    )


def test_server_rejects_an_lfs_file_whose_declared_size_differs(hub_server, new_repo):
    content = b"\0some weights" * 16
    oid = hashlib.sha256(content).hexdigest()
    upload_lfs_object(hub_server, new_repo, content)
    url = f"/api/models/{new_repo}/commit/main"
    for size, status in ((len(content) + 1, 400), (len(content), 200)):
        operation = {"key": "lfsFile", "value": {"path": "w.bin", "algo": "sha256", "oid": oid, "size": size}}
        assert hub_post(hub_server, url, content=commit_ndjson(operation)).status_code == status


def test_server_rejects_an_empty_commit(hub_server, new_repo):
    answer = hub_post(hub_server, f"/api/models/{new_repo}/commit/main", content=commit_ndjson())
    assert answer.status_code == 400 and "No files have been modified" in answer.json()["error"]
    assert len(hub_server.history(new_repo)) == 1


def test_server_rejects_string_metric_values_in_the_card(hub_server):
    def card(value) -> str:
        result = {"task": {"type": "text-classification"}, "dataset": {"type": "emotion", "name": "emotion"},
                  "metrics": [{"type": "accuracy", "value": value}]}  # fmt: skip
        return "---\n" + yaml.safe_dump({"model-index": [{"name": "m", "results": [result]}]}) + "---\n"

    refused = hub_post(hub_server, "/api/validate-yaml", json={"content": card("93.5"), "repoType": "model"})
    assert refused.status_code == 400 and "must be a number" in refused.text
    assert (
        hub_post(
            hub_server, "/api/validate-yaml", json={"content": card(93.5), "repoType": "model"}
        ).status_code
        == 200
    )


# --- dataset repos through the real `datasets` Hub code path ---------------------------------------------------

DATASETS_SCRIPT = """
import json
from datasets import ClassLabel, Dataset, DatasetDict, load_dataset
from huggingface_hub import HfApi

texts = {"train": ["good film", "bad film", "great", "awful"], "test": ["fine", "poor"]}
pushed = DatasetDict({
    split: Dataset.from_dict({"text": rows, "label": [i % 2 for i in range(len(rows))]})
    .cast_column("label", ClassLabel(names=["positive", "negative"]))
    for split, rows in texts.items()
})
pushed.push_to_hub("test-user/tiny-reviews")

api = HfApi()
api.create_repo("test-user/tiny-csv", repo_type="dataset")
for split, body in {"train": "text,label\\nhello,joy\\nugh,anger\\nyay,joy\\n", "test": "text,label\\nhmm,anger\\n"}.items():
    api.upload_file(path_or_fileobj=body.encode(), path_in_repo=f"{split}.csv", repo_id="test-user/tiny-csv",
                    repo_type="dataset")

from_parquet = load_dataset("test-user/tiny-reviews")
from_csv = load_dataset("test-user/tiny-csv")
seeded = load_dataset("test-org/seeded", data_files={"train": "data/train.jsonl"})
print(json.dumps({
    "parquet": {split: from_parquet[split].to_dict() for split in from_parquet},
    "label_names": from_parquet["train"].features["label"].names,
    "csv": {split: from_csv[split].to_dict() for split in from_csv},
    "seeded": seeded["train"].to_dict(),
}))
"""


def test_load_dataset_by_repo_id_from_the_test_hub(hub_server, hub_env):
    rows = [{"text": "so happy", "label": "joy"}, {"text": "so cross", "label": "anger"}]
    jsonl = "".join(json.dumps(row) + "\n" for row in rows).encode()
    hub_server.seed_repo("test-org/seeded", {"data/train.jsonl": jsonl}, repo_type="dataset")
    result = run_python(DATASETS_SCRIPT, hub_env)
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded["parquet"]["train"]["text"] == ["good film", "bad film", "great", "awful"]
    assert loaded["parquet"]["test"]["label"] == [0, 1]
    assert loaded["label_names"] == ["positive", "negative"]
    assert loaded["csv"]["train"] == {"text": ["hello", "ugh", "yay"], "label": ["joy", "anger", "joy"]}
    assert loaded["seeded"] == {"text": ["so happy", "so cross"], "label": ["joy", "anger"]}
    pushed_files = hub_server.files("test-user/tiny-reviews", repo_type="dataset")
    assert {path for path, entry in pushed_files.items() if entry.lfs} == {
        "data/train-00000-of-00001.parquet",
        "data/test-00000-of-00001.parquet",
    }
