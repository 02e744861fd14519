"""What this CPU offers the runtime: its instruction-set level, which decides the INT8 kernels the plugin picks
and whether an "FP32" model runs in bf16 by default."""
import os
from pathlib import Path

# Highest level first: (name oneDNN uses for it, /proc/cpuinfo flags that all must be present).
ISA_LEVELS = [
    ("AVX512_CORE_AMX", ("amx_int8", "amx_tile")),
    ("AVX512_CORE_BF16", ("avx512_bf16",)),
    ("AVX512_CORE_VNNI", ("avx512_vnni",)),
    ("AVX2_VNNI", ("avx_vnni",)),
    ("AVX512_CORE", ("avx512f",)),
    ("AVX2", ("avx2",)),
]
ISA_FLAGS = ("avx2", "avx_vnni", "avx512f", "avx512_vnni", "avx512_bf16", "amx_int8")


def cpu_flags() -> set[str]:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def isa_level(flags: set[str]) -> str:
    return next((name for name, needed in ISA_LEVELS if set(needed) <= flags), "SSE41")


def cpu_description() -> dict:
    """The CPU's ISA level, the flags behind it, and ONEDNN_MAX_CPU_ISA if it caps what the runtime uses."""
    flags = cpu_flags()
    return {"isa": isa_level(flags), "isa_flags": [flag for flag in ISA_FLAGS if flag in flags],
            "max_isa_setting": os.environ.get("ONEDNN_MAX_CPU_ISA")}
