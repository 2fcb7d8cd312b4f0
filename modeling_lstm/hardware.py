"""What the machine can do: the OpenMP wait policy, and whether bf16 runs natively (and what the launcher asked).

The wait policy is chosen before torch loads OpenMP (importing this package does it first), so this module does not
import torch at the top.

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


def cpu_has_native_bf16(cpuinfo: str | None = None) -> bool:
    """The CPU computes in bf16 itself (AVX512-BF16 or AMX-BF16); elsewhere bf16 is emulated and slower than fp32.

    Reads /proc/cpuinfo (Linux); other platforms answer False.
    """
    if cpuinfo is None:
        try:
            with open("/proc/cpuinfo", encoding="utf-8") as file:
                cpuinfo = file.read()
        except OSError:
            return False
    flags = set()
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            flags.update(line.partition(":")[2].split())
    return bool(flags & {"avx512_bf16", "amx_bf16"})


# `accelerate launch` passes the precision of its config file or its --mixed_precision flag to the script here.
LAUNCHER_PRECISION = "ACCELERATE_MIXED_PRECISION"


def resolve_mixed_precision(choice: str, on_cpu: bool) -> str:
    """`auto`: the precision `accelerate launch` passes; without the launcher, bf16 where the device computes it
    natively (measured on a Zen 4 CPU: a training epoch 1.15-1.2x faster, the same accuracy), otherwise full
    precision. Any other choice is the user's own and is kept."""
    if choice != "auto":
        return choice
    if os.environ.get(LAUNCHER_PRECISION):
        return os.environ[LAUNCHER_PRECISION]
    if on_cpu:
        return "bf16" if cpu_has_native_bf16() else "no"
    import torch

    return "bf16" if torch.cuda.is_bf16_supported() else "no"
