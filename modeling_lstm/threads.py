"""OpenMP wait policy, chosen before torch loads OpenMP (importing this package does it first).

libgomp's default lets a thread that finished its share of a parallel region spin for a while before sleeping. For
the LSTM's many small matrix products that is worth 1.5x in training and inference on an idle CPU. When other
processes already keep every core busy, the spinning threads wait for one that has been descheduled, and steps got
10-20x slower (docs/benchmarks.md). So threads sleep (`OMP_WAIT_POLICY=PASSIVE`) only when the machine is busy at
start-up; a value the user set always wins.
"""

import os


def machine_is_busy(load_average: float, cores: int) -> bool:
    """Other processes alone already keep every core busy (over the last minute)."""
    return load_average >= cores


def choose_omp_wait_policy() -> str | None:
    """Set OMP_WAIT_POLICY=PASSIVE on a busy machine unless the user chose a policy; returns the policy in effect."""
    if "OMP_WAIT_POLICY" not in os.environ:
        try:
            load_average = os.getloadavg()[0]
        except OSError:  # not available on this platform
            load_average = 0.0
        if machine_is_busy(load_average, os.cpu_count() or 1):
            os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    return os.environ.get("OMP_WAIT_POLICY")
