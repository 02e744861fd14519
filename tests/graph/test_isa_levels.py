"""The INT8 checks of the suite also pass with the CPU held to AVX2 (ONEDNN_MAX_CPU_ISA), so a machine with a
newer CPU proves the older one too. On a CPU whose best level is AVX2 the native run already is that run."""
import os
import subprocess
import sys

import pytest

from potcli.engine.cpu import cpu_flags, isa_level

from ..conftest import REPO


@pytest.mark.skipif(isa_level(cpu_flags()) in ("AVX2", "SSE41") or os.environ.get("ONEDNN_MAX_CPU_ISA"),
                    reason="this run already is at AVX2 (the CPU has nothing above it, or ONEDNN_MAX_CPU_ISA is set)")
def test_int8_checks_pass_with_the_cpu_held_to_avx2():
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-m", "int8", "-p", "no:cacheprovider",
                             str(REPO / "tests")], env={**os.environ, "ONEDNN_MAX_CPU_ISA": "AVX2"},
                            capture_output=True, text=True, timeout=600, cwd=REPO)
    assert result.returncode == 0, result.stdout[-4000:]
