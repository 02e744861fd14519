"""How AccuracyAwareQuantization's ranking can measure a candidate revert, on each bench model (potq only).

    python bench/ranking.py            # about 5 minutes on 2 cores
    python bench/ranking.py --quick    # fewer samples

For each model, after potq's DefaultQuantization (64 calibration samples):

- compiled: the candidate compiled as the INT8 model it is (potq's ``compile_per_sample``: compile seconds of a reverted
  model, then seconds per sample through potq's request ring, as the ranking runs it);
- switchable: potq's switchable model (the INT8 layers with floating-point copies and a Select each): one
  compile for every candidate, seconds per sample;
- emulated: the earlier switchable model (a Select around every FakeQuantize, which then runs emulated in
  f32), seconds per sample.

"loss" is 1 - cosine of the outputs against FP32 (mean over the samples) with nothing reverted: the real INT8
model's, and what each switchable model reports for it; a way is only as good as its loss is close to the real
one. "break-even" is how many new samples per candidate make a compile pay for itself: rounds of a ranking
with fewer go to the switchable model, rounds with more to compiled candidates.
"""
import argparse
import sys
import time
from pathlib import Path

import numpy as np
import openvino as ov
import openvino.opset13 as ops

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import heading, machine_line, markdown_table  # noqa: E402

MODELS = ("digits", "resnet_like", "transformer_encoder", "text_recognizer", "minilm")


def model_and_inputs(name: str, count: int):
    if name == "digits":
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "samples" / "digits"))
        from aaq import DIGITS
        from plugins import ImageLoader
        loader = ImageLoader(str(DIGITS / "data" / "calib"))
        return ov.Core().read_model(DIGITS / "model" / "digits_outlier.xml"), [loader[i][0] for i in range(count)]
    if name == "minilm":
        import minilm
        return ov.Core().read_model(minilm.ir_path()), minilm.tokenized(minilm.sentences(slice(0, count)))
    import models
    model = getattr(models, name)()
    shape = list(model.inputs[0].get_shape())
    rng = np.random.default_rng(0)
    return model, [rng.standard_normal(shape).astype(np.float32) for _ in range(count)]


def emulated_switchable(model: ov.Model, groups) -> ov.Model:
    """The earlier design: ``Select(keep_g, fq, fq_input)`` around every FakeQuantize of group g."""
    from potcli.algorithms.accuracy_aware.switchable import KEEP_INPUT
    switchable = model.clone()
    nodes = {node.get_friendly_name(): node for node in switchable.get_ordered_ops()}
    flags = []
    for index, group in enumerate(groups):
        flag = ops.parameter([], ov.Type.boolean, name=KEEP_INPUT.format(index))
        flag.output(0).get_tensor().set_names({KEEP_INPUT.format(index)})
        flags.append(flag)
        for name in sorted(group.quantizers):
            readers = list(nodes[name].output(0).get_target_inputs())
            choice = ops.select(flag, nodes[name].output(0), nodes[name].input_value(0))
            for reader in readers:
                reader.replace_source_output(choice.output(0))
    switchable.add_parameters(flags)
    switchable.validate_nodes_and_infer_types()
    return switchable


def measure(name: str, count: int) -> list:
    from potcli.algorithms.accuracy_aware.groups import Reverter, quantizer_groups
    from potcli.algorithms.accuracy_aware.switchable import keep_flags, switchable_model
    from potcli.engine.batching import compile_per_sample, run_compiled_per_sample
    from potcli.engine.inference import Engine
    from potcli.rules import device_rules
    model, inputs = model_and_inputs(name, count)
    state = quantized_state(model, inputs)
    engine, rules = Engine(), device_rules("ANY")
    groups = quantizer_groups(state.fp32, state.plan, rules)
    reverter = Reverter(state.fp32, state.plan)

    def run(compiled, flags=None):
        outputs = {}
        feed = [(i, {**(x if isinstance(x, dict) else {model.inputs[0].get_any_name(): x}), **(flags or {})})
                for i, x in enumerate(inputs)]
        run_compiled_per_sample(engine, compiled, feed[:4], lambda i, out: None, None, "warm-up", 4, shown=False)
        started = time.perf_counter()
        run_compiled_per_sample(engine, compiled, feed, lambda i, out: outputs.__setitem__(i, out[0]), None, "timing",
                     len(feed), shown=False)
        return (time.perf_counter() - started) / len(feed), outputs

    def timed_compile(candidate):
        started = time.perf_counter()
        compiled = compile_per_sample(engine, candidate, "model")
        return time.perf_counter() - started, compiled

    reference = run(compile_per_sample(engine, model, "FP32"))[1]
    rows = {}
    compile_seconds = float(np.median([timed_compile(reverter.reverted_model(state.model, g))[0] for g in groups[:3]]))
    int8_seconds, int8_out = run(compile_per_sample(engine, state.model, "INT8"))
    rows["compiled"] = (compile_seconds, int8_seconds, _loss(int8_out, reference))
    builds = {"switchable": lambda: switchable_model(state.model, groups, reverter.biases, rules["agnostic"]),
              "emulated": lambda: emulated_switchable(state.model, groups)}
    for way, build in builds.items():
        seconds, compiled = timed_compile(build())
        per_sample, outputs = run(compiled, keep_flags(len(groups), None))
        rows[way] = (seconds, per_sample, _loss(outputs, reference))
    int8_loss = rows["compiled"][2]
    extra = rows["switchable"][1] - int8_seconds
    break_even = compile_seconds / extra if extra > 0 else float("inf")
    return [name, len(groups), *(f"{rows[w][0]:.2f} s / {rows[w][1] * 1e3:.2f} ms" for w in rows),
            int8_loss, rows["switchable"][2], rows["emulated"][2], round(break_even)]


def quantized_state(model, inputs):
    """potq's DefaultQuantization of ``model`` on ``inputs``: the model with FakeQuantize and its plan."""
    from potcli import IEEngine, create_pipeline
    from potcli import pipeline as potq
    configured = create_pipeline([{"name": "DefaultQuantization", "params": {"stat_subset_size": len(inputs)}}],
                                 IEEngine({"device": "CPU"}, ListLoader(inputs)))
    return potq.quantize(model, configured.algorithms, configured.engine.session,
                         potq.QuantizeOptions(source="bench", algorithms_path="algorithms", model_name="bench"))


class ListLoader:
    def __init__(self, items):
        self.items = items

    def __len__(self):
        return len(self.items)

    def __getitem__(self, index):
        return self.items[index], None


def _loss(outputs: dict, reference: dict) -> float:
    cosines = [float(np.dot(o.ravel(), r.ravel()) / (np.linalg.norm(o) * np.linalg.norm(r) + 1e-12))
               for o, r in ((outputs[i], reference[i]) for i in reference)]
    return 1.0 - float(np.mean(cosines))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    args = parser.parse_args(argv)
    print(f"machine: {machine_line()}\n", flush=True)
    rows = [measure(name, 16 if args.quick else 64) for name in args.models]
    print(heading("Measuring a candidate revert: compile / per sample, and loss against FP32"))
    print(markdown_table(["model", "groups", "compiled", "switchable", "emulated", "INT8 loss",
                          "switchable loss", "emulated loss", "break-even samples"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
