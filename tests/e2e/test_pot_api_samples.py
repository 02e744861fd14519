"""POT's API samples, the way they are written (a DataLoader over a dataset config with attribute access, a Metric
without ``value``, ``init_logger``, an ``IEEngine`` subclass with ``postprocess_output``), run against
samples/digits with only ``openvino.tools.pot`` replaced by ``potcli.pot`` in the imports.

The scripts are potq's own, written after the structure of POT's classification and segmentation samples
(tools/pot/openvino/tools/pot/api/samples); the dataset-specific parts (file names, 8x8 grayscale images) are
adapted to the digits sample.
"""
import ast
import subprocess
import sys

import openvino as ov
import pytest

from ..conftest import REPO, in_int8, operation_precisions, write_text

DIGITS = REPO / "samples" / "digits"

CLASSIFICATION_SAMPLE = '''
import os
import sys

import numpy as np
from cv2 import IMREAD_GRAYSCALE, imread, resize as cv2_resize

from potcli.pot import Metric, DataLoader, IEEngine, load_model, save_model, compress_model_weights, create_pipeline
from potcli.pot.utils.logger import init_logger

init_logger(level="INFO")


class DigitsDataLoader(DataLoader):
    """Images and labels named by an annotation file, preprocessed as the dataset config says."""

    def __init__(self, config):
        super().__init__(config)
        self._labels, self._names = self._read_annotation(self.config)

    def __len__(self):
        return len(self._names)

    def __getitem__(self, index):
        if index >= len(self):
            raise IndexError
        name = self._names[index]
        return self._read_image(name), self._labels[name]

    @staticmethod
    def _read_annotation(dataset):
        labels, names = {}, []
        with open(dataset.annotation_file) as lines:
            for line in lines:
                name, label = line.split(" ")
                labels[name] = int(label) + (1 if dataset.has_background else 0)
                names.append(name)
        return labels, names

    def _read_image(self, name):
        image = imread(os.path.join(self.config.data_source, name), IMREAD_GRAYSCALE)
        for step in self.config.preprocessing:          # attribute access into a list of dicts
            image = PREPROCESSING[step.type](image, step)
        return image                                     # [8, 8]: no batch or channel axis


class Accuracy(Metric):
    """Top-1 accuracy; no per-sample value and no higher_better, as POT's sample."""

    def __init__(self, top_k=1):
        super().__init__()
        self._top_k = top_k
        self._name = "accuracy@top{}".format(top_k)
        self._matches = []

    @property
    def avg_value(self):
        return {self._name: np.ravel(self._matches).mean()}

    def update(self, output, target):
        predictions = np.argsort(output[0], axis=1)[:, -self._top_k:]
        self._matches.append([float(t in predictions[i]) for i, t in enumerate(target)])

    def reset(self):
        self._matches = []

    def get_attributes(self):
        return {self._name: {"direction": "higher-better", "type": "accuracy"}}


def central_crop(image, params):
    height, width = image.shape[:2]
    new_height, new_width = int(height * params["central_fraction"]), int(width * params["central_fraction"])
    top, left = (height - new_height) // 2, (width - new_width) // 2
    return image[top:top + new_height, left:left + new_width]


def resize(image, params):
    return cv2_resize(image, (params["width"], params["height"]))


PREPROCESSING = {"crop": central_crop, "resize": resize}

model_xml, dataset_dir, out_dir = sys.argv[1:4]
model = load_model({"model_name": "sample_model", "model": model_xml, "weights": model_xml[:-4] + ".bin"})
dataset_config = {
    "data_source": dataset_dir,
    "annotation_file": os.path.join(dataset_dir, "labels.txt"),
    "has_background": False,
    "preprocessing": [{"type": "crop", "central_fraction": 1.0}, {"type": "resize", "width": 8, "height": 8}],
}
metric = Accuracy(top_k=1)
engine = IEEngine({"device": "CPU", "stat_requests_number": 4, "eval_requests_number": 4},
                  DigitsDataLoader(dataset_config), metric)
pipeline = create_pipeline([{"name": "DefaultQuantization", "params": {"target_device": "ANY",
                                                                        "preset": "performance",
                                                                        "stat_subset_size": 300}}], engine)
compressed_model = pipeline.run(model)
compress_model_weights(compressed_model)
save_model(compressed_model, os.path.join(out_dir, "optimized"))
print(metric.higher_better)
for name, value in pipeline.evaluate(compressed_model).items():
    print("{: <27s}: {}".format(name, value))
'''


def run_sample(tmp_path, text: str, model: str) -> subprocess.CompletedProcess:
    """Run a sample script on ``model`` of samples/digits and its calibration images, writing to ``tmp_path``."""
    script = write_text(tmp_path / "sample.py", text)
    result = subprocess.run([sys.executable, str(script), str(DIGITS / "model" / model),
                             str(DIGITS / "data" / "calib"), str(tmp_path)], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    return result


@pytest.mark.int8
def test_classification_sample_runs_with_only_the_import_changed(tmp_path):
    result = run_sample(tmp_path, CLASSIFICATION_SAMPLE, "digits.xml")
    assert "INFO:potq.algorithms:Start algorithm: DefaultQuantization" in result.stdout  # init_logger shows them
    lines = result.stdout.strip().splitlines()
    assert "True" in lines  # Metric.higher_better defaults to True
    accuracy = lines[-1]
    assert accuracy.startswith("accuracy@top1") and float(accuracy.split(":")[1]) >= 0.97
    saved = tmp_path / "optimized" / "sample_model.xml"  # save_model without a name uses the model's
    precisions = operation_precisions(ov.Core().read_model(saved))
    assert in_int8(precisions) == set(precisions), precisions


# An IEEngine subclass with POT's hook (as the 3D segmentation sample has): the DataLoader returns metadata, the
# hook turns logits into the predicted class with it, and the Metric only understands what the hook returns.
CUSTOM_ENGINE_SAMPLE = '''
import os
import sys

import numpy as np
import cv2

from potcli.pot import Metric, DataLoader, IEEngine, load_model, save_model, create_pipeline
from potcli.pot.utils.logger import init_logger, get_logger

init_logger(level="DEBUG")
logger = get_logger(__name__)
HOOK_CALLS = []


class DigitsLoader(DataLoader):
    def __init__(self, config):
        super().__init__(config)
        with open(os.path.join(self.config.data_source, "labels.txt")) as lines:
            self._items = [line.split() for line in lines]

    def __len__(self):
        return len(self._items)

    def __getitem__(self, index):
        if index >= len(self):
            raise IndexError
        name, label = self._items[index]
        image = cv2.imread(os.path.join(self.config.data_source, name), cv2.IMREAD_GRAYSCALE)
        return image[np.newaxis].astype(np.float32), int(label), {"classes": 10, "file": name}


class ClassEngine(IEEngine):
    @staticmethod
    def postprocess_output(outputs, metadata):
        HOOK_CALLS.append(metadata[0]["file"])
        logits = outputs["logits"]
        assert logits.shape[-1] == metadata[0]["classes"]
        return [np.argmax(logits, axis=-1)]


class ClassAccuracy(Metric):
    """Compares the class the engine's hook predicted; raw logits would fail the shape check."""

    def __init__(self):
        super().__init__()
        self._name = "class_accuracy"

    @property
    def value(self):
        return {self._name: [self._hits[-1]]}

    @property
    def avg_value(self):
        return {self._name: float(np.mean(self._hits))}

    def update(self, output, target):
        if output[0].shape != (1,):
            raise ValueError("expected the predicted class, got output of shape {}".format(output[0].shape))
        self._hits.append(float(output[0][0] == target[0]))

    def reset(self):
        self._hits = []

    def get_attributes(self):
        return {self._name: {"direction": "higher-better", "type": "accuracy"}}


model_xml, dataset_dir, out_dir = sys.argv[1:4]
model = load_model({"model_name": "digits_outlier", "model": model_xml, "weights": model_xml[:-4] + ".bin"})
engine = ClassEngine({"device": "CPU"}, DigitsLoader({"data_source": dataset_dir}), ClassAccuracy())
pipeline = create_pipeline([{"name": "AccuracyAwareQuantization",
                             "params": {"preset": "performance", "stat_subset_size": 300, "maximal_drop": 0.02}}],
                           engine)
compressed = pipeline.run(model)
logger.info("hook calls during quantization: %d", len(HOOK_CALLS))
del HOOK_CALLS[:]
save_model(compressed, out_dir, "digits_aaq")
print(pipeline.evaluate(compressed))
print(len(HOOK_CALLS), len(engine.data_loader))
'''


@pytest.mark.int8
def test_ieengine_subclass_hook_feeds_the_metric_in_every_evaluation(tmp_path):
    result = run_sample(tmp_path, CUSTOM_ENGINE_SAMPLE, "digits_outlier.xml")
    *_, metrics, calls = result.stdout.strip().splitlines()
    assert ast.literal_eval(metrics)["class_accuracy"] >= 0.98  # FP32 is 1.0 on this split; the budget was 0.02
    hook_calls, samples = calls.split()
    assert hook_calls == samples  # the final evaluation went through the hook once per sample
    assert "INFO:potq.__main__:hook calls during quantization:" in result.stdout  # a script's get_logger logger
    assert "DEBUG:potq:" in result.stdout  # potq's own debug messages reach init_logger's handler
    precisions = operation_precisions(ov.Core().read_model(tmp_path / "digits_aaq.xml"))
    assert precisions["res.conv2"] == "f32" and in_int8(precisions) == set(precisions) - {"res.conv2"}, precisions
