"""The data gate of tests/conftest.py: missing real data fails a CI run and only skips a local one."""

import subprocess
import sys

import pytest
from conftest import REPO_ROOT, subprocess_env

GATED_TEST = """
import sys
from pathlib import Path

sys.path.insert(0, {tests!r})
from conftest import shared_dataset


def test_needs_the_data():
    shared_dataset("emotion", root=Path({root!r}))
"""


def run_gated_test(tmp_path, ci: str | None) -> subprocess.CompletedProcess:
    (tmp_path / "test_gated.py").write_text(
        GATED_TEST.format(tests=str(REPO_ROOT / "tests"), root=str(tmp_path / "missing"))
    )
    env = subprocess_env()
    env.pop("CI", None)
    if ci is not None:
        env["CI"] = ci
    command = [sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider", "test_gated.py"]
    return subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("ci", ["true", "1"])
def test_missing_data_fails_a_ci_run_in_one_line(tmp_path, ci):
    result = run_gated_test(tmp_path, ci)
    assert result.returncode == 1, result.stdout
    missing = tmp_path / "missing" / "emotion" / "train.csv"
    lines = [
        line for line in result.stdout.splitlines() if f"real data not found: {missing} is absent" in line
    ]
    assert lines and all("CI=true, so missing data fails the run" in line for line in lines), result.stdout
    assert "1 failed" in result.stdout


@pytest.mark.parametrize("ci", [None, "false"])
def test_missing_data_skips_a_local_run_with_the_reason(tmp_path, ci):
    result = run_gated_test(tmp_path, ci)
    assert result.returncode == 0, result.stdout
    assert "1 skipped" in result.stdout
    assert f"real data not found: {tmp_path / 'missing' / 'emotion' / 'train.csv'} is absent" in result.stdout


def test_present_data_is_returned(tmp_path):
    from conftest import shared_dataset

    (tmp_path / "emotion").mkdir()
    (tmp_path / "emotion" / "train.csv").write_text("text,label\nhi,joy\n")
    assert shared_dataset("emotion", root=tmp_path) == tmp_path / "emotion"
