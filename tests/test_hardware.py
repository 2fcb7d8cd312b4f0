import os
import socket
import subprocess
import sys

import pytest
from conftest import REPO_ROOT

from modeling_lstm import hardware


@pytest.mark.parametrize(
    ("load_average", "cores", "busy"),
    [(0.3, 2, False), (1.9, 2, False), (2.0, 2, True), (7.5, 2, True), (7.5, 16, False)],
)
def test_machine_is_busy_when_other_load_fills_every_core(load_average, cores, busy):
    assert hardware.machine_is_busy(load_average, cores) is busy


@pytest.mark.parametrize(("load_average", "expected"), [(0.1, None), (64.0, "PASSIVE")])
def test_threads_sleep_only_on_a_busy_machine(monkeypatch, load_average, expected):
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    monkeypatch.setattr(os, "getloadavg", lambda: (load_average, 0.0, 0.0))
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert hardware.choose_omp_wait_policy() == expected
    assert os.environ.get("OMP_WAIT_POLICY") == expected


def test_the_users_wait_policy_wins(monkeypatch):
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    monkeypatch.setattr(os, "getloadavg", lambda: (64.0, 0.0, 0.0))
    assert hardware.choose_omp_wait_policy() == "ACTIVE"


def test_importing_the_package_chooses_before_torch_loads():
    # OpenMP reads the policy once, when torch loads: the choice must come first.
    probe = (
        "import os, sys\n"
        "seen = []\n"
        "os.getloadavg = lambda: (seen.append('torch' in sys.modules), (1e6, 0.0, 0.0))[1]\n"
        "import modeling_lstm\n"
        "print(seen, os.environ.get('OMP_WAIT_POLICY'))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    result = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["[False]", "PASSIVE"]


ZEN4 = "processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512_bf16 avx512_vnni\n"
SKYLAKE = "processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512bw avx512vl\n"


@pytest.mark.parametrize(("cpuinfo", "native"), [(ZEN4, True), (SKYLAKE, False), ("", False)])
def test_native_bf16_comes_from_the_cpu_flags(cpuinfo, native):
    assert hardware.cpu_has_native_bf16(cpuinfo) is native


@pytest.mark.parametrize(("native", "expected"), [(True, "bf16"), (False, "no")])
def test_auto_mixed_precision_on_cpu_is_bf16_only_where_native(monkeypatch, native, expected):
    monkeypatch.delenv("ACCELERATE_MIXED_PRECISION", raising=False)  # not launched by `accelerate launch`
    monkeypatch.setattr(hardware, "cpu_has_native_bf16", lambda: native)
    assert hardware.resolve_mixed_precision("auto", on_cpu=True) == expected
    # An explicit choice is kept, whatever the hardware.
    assert hardware.resolve_mixed_precision("no", on_cpu=True) == "no"
    assert hardware.resolve_mixed_precision("bf16", on_cpu=True) == "bf16"


def test_auto_follows_the_precision_accelerate_launch_passes(monkeypatch):
    monkeypatch.setattr(hardware, "cpu_has_native_bf16", lambda: True)
    monkeypatch.setenv("ACCELERATE_MIXED_PRECISION", "no")  # the launcher's config file or flag said "no"
    assert hardware.resolve_mixed_precision("auto", on_cpu=True) == "no"
    monkeypatch.setattr(hardware, "cpu_has_native_bf16", lambda: False)
    monkeypatch.setenv("ACCELERATE_MIXED_PRECISION", "bf16")
    assert hardware.resolve_mixed_precision("auto", on_cpu=True) == "bf16"
    # A precision given to our script wins over the launcher's.
    assert hardware.resolve_mixed_precision("fp16", on_cpu=True) == "fp16"
    assert hardware.resolve_mixed_precision("no", on_cpu=True) == "no"


LAUNCHED_PROBE = """
from modeling_lstm import hardware

hardware.cpu_has_native_bf16 = lambda: True  # without the launcher's word, auto would pick bf16
print("precision", hardware.resolve_mixed_precision("auto", on_cpu=True))
"""


@pytest.mark.slow  # accelerate launch starts two processes
def test_accelerate_launch_config_wins_over_auto(tmp_path):
    """configs/accelerate/cpu_2proc.yaml says mixed_precision "no": both launched processes keep full precision."""
    probe = tmp_path / "probe.py"
    probe.write_text(LAUNCHED_PROBE, encoding="utf-8")
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    config = REPO_ROOT / "configs" / "accelerate" / "cpu_2proc.yaml"
    launch = [
        "-m",
        "accelerate.commands.launch",
        "--config_file",
        str(config),
        "--main_process_port",
        str(port),
    ]
    env = {k: v for k, v in os.environ.items() if k != "ACCELERATE_MIXED_PRECISION"}
    result = subprocess.run(
        [sys.executable, *launch, str(probe)], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert [line for line in result.stdout.splitlines() if line.startswith("precision")] == [
        "precision no"
    ] * 2
