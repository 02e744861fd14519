"""Per-target-device quantization rules, kept as data (potq's own format, in the spirit of POT's hardware configs)."""
import functools
import json
from importlib import resources

# POT's gpu.json was its cpu.json without LSTMSequence / GRUSequence, which potq quantizes on no target: the CPU
# rules are GPU's rules. NPU had no rules in POT 2023.3; config/not_carried.py refuses it with what to use instead.
RULE_FILES = {"ANY": "cpu.json", "CPU": "cpu.json", "CPU_SPR": "cpu.json", "GPU": "cpu.json"}


@functools.cache
def device_rules(target_device: str) -> dict:
    """The rules for ``target_device`` (one of the schema's targetDevice values). Treat as read-only."""
    text = resources.files(__name__).joinpath(RULE_FILES[target_device]).read_text(encoding="utf-8")
    return json.loads(text)
