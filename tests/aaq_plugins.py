"""DataLoader and Metrics for AccuracyAwareQuantization tests: the annotation of each sample is the FP32
model's own output, and the metrics measure agreement with it (no labels needed, so results are exact)."""
import numpy as np
import openvino as ov

from potcli import DataLoader, Metric


class ReferenceLoader(DataLoader):
    """``count`` seeded random inputs for the model at ``model_path``, annotated with its FP32 outputs."""

    def __init__(self, model_path, count=48, seed=0):
        core = ov.Core()
        model = core.read_model(model_path)
        compiled = core.compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
        rng = np.random.default_rng(seed)
        shape = list(model.inputs[0].get_shape())
        self.inputs = [rng.standard_normal(shape).astype(np.float32) for _ in range(count)]
        self.references = [compiled(x)[0] for x in self.inputs]

    def __len__(self):
        return len(self.inputs)

    def __getitem__(self, index):
        return self.inputs[index], self.references[index]


def _agreement(output, reference):
    return 1.0 - float(np.sum((output - reference) ** 2) / np.sum(reference ** 2))


class SimilarityWithoutPerSample(Metric):
    """1 - normalized squared error against the FP32 output (higher is better); no per-sample ``value``,
    so potq must rank layers by output error."""

    name = "similarity"

    @property
    def avg_value(self):
        return {self.name: float(np.mean(self._values))}

    def update(self, output, target):
        self._values.append(_agreement(output[0], target[0]))

    def reset(self):
        self._values = []

    def get_attributes(self):
        return {self.name: {"direction": "higher-better", "type": "similarity"}}


class Similarity(SimilarityWithoutPerSample):
    """The same, with POT's per-sample ``value`` (a list per batch item)."""

    @property
    def value(self):
        return {self.name: [self._values[-1]]}


class Error(Similarity):
    """Normalized squared error against the FP32 output: higher is worse."""

    name = "error"

    def update(self, output, target):
        self._values.append(1.0 - _agreement(output[0], target[0]))

    def get_attributes(self):
        return {self.name: {"direction": "higher-worse", "type": "error"}}
