"""Wall seconds and peak memory per phase of a training run: input check, load, tokenizer training, tokenisation,
training, evaluation, saving.

`recording_phases` gives a function call a recorder of its own; inside it, `with phase("load"):` times a block, from
any module (data.py marks its input check without being handed the recorder), and does nothing outside a recording.
Phases nest: a phase's seconds exclude those of the phases inside it, so the phases add up to the time they cover.
The scale benchmark (benchmarks/scale.py) reads them from all_results.json to see how each phase grows with the data.
"""

import functools
import json
import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from .output_dir import write_text_atomic

logger = logging.getLogger(__name__)

MB = 1_000_000


def peak_rss_mb() -> float | None:
    """This process's peak resident memory so far (ru_maxrss), in MB; None where the platform has no getrusage."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / MB


class PhaseRecorder:
    def __init__(self):
        self.seconds: dict[str, float] = {}
        self.peak_rss_mb: dict[str, float | None] = {}  # at the end of the phase's last run
        self._inner_seconds: list[float] = []  # per open phase: the seconds of the phases inside it

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        self.seconds.setdefault(name, 0.0)  # phases are listed in the order they start
        self._inner_seconds.append(0.0)
        start = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - start
            self.seconds[name] += elapsed - self._inner_seconds.pop()
            if self._inner_seconds:
                self._inner_seconds[-1] += elapsed
            self.peak_rss_mb[name] = peak_rss_mb()

    def results(self) -> dict:
        """The all_results.json entries: `phase_seconds` and `peak_rss_mb` (the process's peak at each phase's
        end), each keyed by phase."""
        return {
            "phase_seconds": {name: round(seconds, 3) for name, seconds in self.seconds.items()},
            "peak_rss_mb": {
                name: None if peak is None else round(peak, 1) for name, peak in self.peak_rss_mb.items()
            },
        }

    def summary(self) -> str:
        return ", ".join(
            f"{name} {seconds:.1f} s" + ("" if peak is None else f" (peak RSS {peak:,.0f} MB)")
            for name, seconds, peak in (
                (name, seconds, self.peak_rss_mb.get(name)) for name, seconds in self.seconds.items()
            )
        )


_recorder: ContextVar[PhaseRecorder | None] = ContextVar("phase_recorder", default=None)


def recording_phases(function):
    """Decorate `function` so that each call records its phases in a fresh PhaseRecorder (current_phases())."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        token = _recorder.set(PhaseRecorder())
        try:
            return function(*args, **kwargs)
        finally:
            _recorder.reset(token)

    return wrapper


def current_phases() -> PhaseRecorder | None:
    return _recorder.get()


@contextmanager
def phase(name: str) -> Iterator[None]:
    """Time the block as phase `name` of the current recording (nothing outside one)."""
    recorder = _recorder.get()
    if recorder is None:
        yield
        return
    with recorder.phase(name):
        yield


def add_phase_results(results: dict, results_file: Path) -> None:
    """Log the phases and add them to `results` and to the results file already saved (rewritten atomically: the
    saving phase they include ends once that file exists)."""
    recorder = _recorder.get()
    if recorder is None:
        return
    logger.info(f"Phases: {recorder.summary()}")
    results.update(recorder.results())
    write_text_atomic(results_file, json.dumps(results, indent=2))
