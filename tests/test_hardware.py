import os
import subprocess
import sys

import pytest

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
    monkeypatch.setattr(hardware, "cpu_has_native_bf16", lambda: native)
    assert hardware.resolve_mixed_precision("auto", on_cpu=True) == expected
    # An explicit choice is kept, whatever the hardware.
    assert hardware.resolve_mixed_precision("no", on_cpu=True) == "no"
    assert hardware.resolve_mixed_precision("bf16", on_cpu=True) == "bf16"
