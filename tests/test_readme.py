"""The README's Python API example runs as written."""

import re

from conftest import REPO_ROOT, TINY_TEXTS


def test_readme_python_example_runs(tmp_path, monkeypatch):
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.DOTALL)
    assert blocks, "README.md has no Python example"
    monkeypatch.chdir(tmp_path)
    namespace = {"texts": TINY_TEXTS["positive"] + TINY_TEXTS["negative"]}
    exec(compile(blocks[0], "README.md", "exec"), namespace)
    scores = namespace["classify"]("a wonderful film")[0]
    assert {item["label"] for item in scores} == {"neg", "pos"}
    assert abs(sum(item["score"] for item in scores) - 1) < 1e-5
