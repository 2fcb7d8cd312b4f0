"""The output folder: the user's files are never lost, only this project's own files are ever replaced."""

import json

import pytest

from modeling_lstm.errors import UserInputError
from modeling_lstm.output_dir import (
    MANIFEST,
    folder_written_aside,
    owned_entries,
    prepare_output_dir,
    publish,
    write_text_atomic,
)
from modeling_lstm.run_identity import check_same_run

OUR_CONFIG = json.dumps({"auto_map": {"AutoConfig": "configuration_lstm.LSTMConfig"}})


def snapshot(folder) -> dict:
    """Every file under `folder` (hidden ones too) -> its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def write_model(version: str):
    def write_files(folder):
        (folder / "config.json").write_text(OUR_CONFIG)
        (folder / "model.safetensors").write_text(f"weights {version}")
        (folder / "all_results.json").write_text(f"results {version}")

    return write_files


def train_into(output_dir, version: str, overwrite=False):
    prepare_output_dir(output_dir, overwrite, None)
    (output_dir / "checkpoints" / "step_1").mkdir()
    publish(output_dir, write_model(version))


@pytest.fixture
def users_folder(tmp_path):
    folder = tmp_path / "thesis"
    folder.mkdir()
    (folder / "notes.txt").write_text("three years of notes")
    (folder / "train.csv").write_text("text,label\nhello,a\n")
    (folder / "chapters").mkdir()
    (folder / "chapters" / "one.tex").write_text("\\chapter{One}")
    return folder


def test_a_folder_of_the_users_is_refused_and_left_untouched(users_folder):
    before = snapshot(users_folder)
    with pytest.raises(UserInputError) as error:
        prepare_output_dir(users_folder, overwrite=False, resume=None)
    message = str(error.value)
    assert "\n" not in message and "notes.txt" in message and "--overwrite_output_dir" in message
    assert snapshot(users_folder) == before
    assert sorted(p.name for p in users_folder.parent.iterdir()) == ["thesis"]


def test_overwrite_writes_the_model_beside_the_users_files(users_folder):
    before = snapshot(users_folder)
    train_into(users_folder, "1", overwrite=True)
    after = snapshot(users_folder)
    assert {name: after[name] for name in before} == before
    assert after["model.safetensors"] == b"weights 1"
    assert owned_entries(users_folder) == {
        "config.json",
        "model.safetensors",
        "all_results.json",
        "checkpoints",
    }

    # Replacing that model again replaces only this project's files; the user's stay, byte for byte.
    (users_folder / "later-notes.txt").write_text("written after training")
    train_into(users_folder, "2", overwrite=True)
    after = snapshot(users_folder)
    assert {name: after[name] for name in before} == before
    assert (
        after["later-notes.txt"] == b"written after training" and after["model.safetensors"] == b"weights 2"
    )
    assert sorted(p.name for p in users_folder.parent.iterdir()) == ["thesis"]  # no temporary folder left


def test_only_files_this_project_wrote_are_replaced(tmp_path):
    output_dir = tmp_path / "out"
    train_into(output_dir, "1")
    (output_dir / "confusion_matrix.png").write_text("ours, from a run that plotted it")
    manifest = json.loads((output_dir / MANIFEST).read_text())
    manifest["entries"].append("confusion_matrix.png")
    (output_dir / MANIFEST).write_text(json.dumps(manifest))
    train_into(output_dir, "2", overwrite=True)
    assert not (output_dir / "confusion_matrix.png").exists()  # ours, not written this time: gone
    assert (output_dir / "model.safetensors").read_text() == "weights 2"


def test_a_users_file_named_like_ours_is_never_replaced(users_folder):
    (users_folder / "config.json").write_text('{"my": "experiment settings"}')
    before = snapshot(users_folder)
    with pytest.raises(UserInputError, match=r"config\.json there was not written by this project"):
        prepare_output_dir(users_folder, overwrite=True, resume=None)
    assert snapshot(users_folder) == before


def test_sibling_folders_that_share_a_name_pattern_survive(tmp_path):
    output_dir = tmp_path / "out"
    siblings = {}
    for name in (".out.staging", ".out.previous", ".out.publish-x"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "mine.txt").write_text(f"the user's {name}")
        siblings[name] = snapshot(tmp_path / name)
    train_into(output_dir, "1")
    train_into(output_dir, "2", overwrite=True)
    assert {name: snapshot(tmp_path / name) for name in siblings} == siblings
    assert sorted(p.name for p in tmp_path.iterdir()) == [*sorted(siblings), "out"]


def test_a_failure_while_writing_leaves_the_old_model_whole(users_folder):
    train_into(users_folder, "1", overwrite=True)
    before = snapshot(users_folder)

    def crash(folder):
        write_model("2")(folder)
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        publish(users_folder, crash)
    assert snapshot(users_folder) == before
    assert sorted(p.name for p in users_folder.parent.iterdir()) == ["thesis"]


def test_a_model_folder_written_before_manifests_is_ours(tmp_path):
    output_dir = tmp_path / "old"
    output_dir.mkdir()
    (output_dir / "config.json").write_text(OUR_CONFIG)
    (output_dir / "model.safetensors").write_text("old weights")
    (output_dir / "notes.txt").write_text("the user's")
    with pytest.raises(UserInputError, match="already holds a model"):
        prepare_output_dir(output_dir, overwrite=False, resume=None)
    train_into(output_dir, "new", overwrite=True)
    assert (output_dir / "model.safetensors").read_text() == "weights new"
    assert (output_dir / "notes.txt").read_text() == "the user's"


def test_an_unfinished_runs_checkpoints_are_kept_unless_asked(tmp_path):
    output_dir = tmp_path / "out"
    prepare_output_dir(output_dir, overwrite=False, resume=None)
    (output_dir / "checkpoints" / "step_20").mkdir()
    with pytest.raises(UserInputError, match="unfinished run.*--resume_from_checkpoint latest"):
        prepare_output_dir(output_dir, overwrite=False, resume=None)
    assert (output_dir / "checkpoints" / "step_20").is_dir()
    prepare_output_dir(output_dir, overwrite=False, resume="latest")
    assert (output_dir / "checkpoints" / "step_20").is_dir()
    prepare_output_dir(output_dir, overwrite=True, resume=None)
    assert list((output_dir / "checkpoints").iterdir()) == []


def test_a_fresh_run_does_not_reuse_a_failed_runs_tokenizer(tmp_path):
    output_dir = tmp_path / "out"
    prepare_output_dir(output_dir, overwrite=False, resume=None)
    (output_dir / "checkpoints" / "tokenizer").mkdir()
    (output_dir / "checkpoints" / "tokenizer" / "tokenizer.json").write_text('{"trunc')
    prepare_output_dir(output_dir, overwrite=False, resume=None)
    assert list((output_dir / "checkpoints").iterdir()) == []


def test_folder_written_aside_keeps_the_old_folder_on_failure(tmp_path):
    target = tmp_path / "tokenizer"
    with folder_written_aside(target) as aside:
        aside.mkdir()
        (aside / "tokenizer.json").write_text('{"complete": true}')
    with pytest.raises(KeyboardInterrupt):
        with folder_written_aside(target) as aside:
            aside.mkdir()
            (aside / "tokenizer.json").write_text('{"trunc')
            raise KeyboardInterrupt  # a kill half-way through the save
    assert json.loads((target / "tokenizer.json").read_text()) == {"complete": True}
    assert [p.name for p in tmp_path.iterdir()] == ["tokenizer"]


def test_write_text_atomic_replaces_whole_files(tmp_path):
    path = tmp_path / "trainer_state.json"
    write_text_atomic(path, "old")
    write_text_atomic(path, "new")
    assert path.read_text() == "new" and [p.name for p in tmp_path.iterdir()] == ["trainer_state.json"]


def test_check_same_run_names_every_differing_argument():
    recorded = {"training data": "abc", "seed": 1, "learning_rate": 0.01, "lowercase": True}
    check_same_run(dict(recorded), recorded, "step_40")
    current = {**recorded, "seed": 2, "learning_rate": 0.02, "training data": "def"}
    with pytest.raises(UserInputError) as error:
        check_same_run(recorded, current, "checkpoints/step_40")
    message = str(error.value)
    assert "\n" not in message and message.startswith(
        "checkpoints/step_40 belongs to a run with other arguments"
    )
    assert "--seed 1 (now 2)" in message and "--learning_rate 0.01 (now 0.02)" in message
    assert "training data" in message and "lowercase" not in message
    with pytest.raises(UserInputError, match="records no run arguments"):
        check_same_run(None, current, "step_40")


def test_a_push_uploads_none_of_the_users_files(users_folder):
    from modeling_lstm.hub import files_to_upload

    train_into(users_folder, "1", overwrite=True)
    assert set(files_to_upload(users_folder)) == {"config.json", "model.safetensors", "all_results.json"}
