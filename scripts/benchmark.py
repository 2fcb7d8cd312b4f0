"""`python scripts/benchmark.py ...` runs `python -m benchmarks ...` (see benchmarks/__main__.py for the flags)."""

import runpy
import sys
from pathlib import Path

# benchmarks/ sits beside scripts/ in the source tree and is not installed: import it from there.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
runpy.run_module("benchmarks", run_name="__main__", alter_sys=True)
