"""Strip outputs and execution counts from notebooks, in place, so that git holds only what people wrote.

python scripts/strip_notebook_outputs.py                  strip every notebook under notebooks/
python scripts/strip_notebook_outputs.py a.ipynb b.ipynb  strip these
python scripts/strip_notebook_outputs.py --check          exit 1 (and list them) if any notebook has outputs

Removed: code cells' outputs and execution counts, per-cell run metadata (nbclient's `execution` timings,
`ExecuteTime`), and notebook-level widget state and signatures. Everything else, cell ids and tags included,
stays. Files are written the way Jupyter writes them (nbformat: one-space indent, sorted keys), and only when
something changed. Standard library only, so it runs as a pre-commit hook without the project installed.
"""

import argparse
import json
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
CELL_RUN_METADATA = ("execution", "ExecuteTime")
NOTEBOOK_RUN_METADATA = ("widgets", "signature")


def strip(notebook: dict) -> dict:
    """The notebook without outputs, execution counts and run metadata (a new dict; the argument is unchanged)."""
    notebook = json.loads(json.dumps(notebook))
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        metadata = cell.get("metadata", {})
        for key in CELL_RUN_METADATA:
            metadata.pop(key, None)
    for key in NOTEBOOK_RUN_METADATA:
        notebook.get("metadata", {}).pop(key, None)
    return notebook


def dumps(notebook: dict) -> str:
    """Serialised like nbformat.write, so that a notebook saved by Jupyter and then stripped does not churn."""
    return json.dumps(notebook, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def find_notebooks(paths: list[str]) -> list[Path]:
    if not paths:
        return sorted(p for p in NOTEBOOKS_DIR.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    return [Path(path) for path in paths]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", help="Notebooks (default: every .ipynb under notebooks/).")
    parser.add_argument(
        "--check", action="store_true", help="Change nothing; exit 1 if any notebook has outputs."
    )
    args = parser.parse_args(argv)

    dirty = []
    for path in find_notebooks(args.paths):
        try:
            notebook = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            print(f"{path}: cannot read it as a notebook ({error})", file=sys.stderr)
            return 2
        stripped = strip(notebook)
        if stripped == notebook:
            continue
        dirty.append(path)
        if not args.check:
            path.write_text(dumps(stripped), encoding="utf-8")
            print(f"stripped {path}")
    if args.check and dirty:
        for path in dirty:
            print(f"{path}: has outputs or execution counts", file=sys.stderr)
        print("run `python scripts/strip_notebook_outputs.py` before committing", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
