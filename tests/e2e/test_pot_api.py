"""A script written in POT's documented style (../shared/seed) runs with only the import line changed."""
import ast
import subprocess
import sys

import openvino as ov
import pytest

from ..conftest import REPO, in_int8, operation_precisions, write_text

DIGITS = REPO / "samples" / "digits"

# POT's DefaultQuantization example, as its users wrote it; the model-specific parts (file names, input size,
# grayscale) are adapted to the digits sample. The only POT-to-potq change is the import line.
POT_STYLE_SCRIPT = '''
import os
import sys
import numpy as np
import cv2 as cv

from potcli import DataLoader, IEEngine, load_model, save_model, compress_model_weights, create_pipeline


class ImageLoader(DataLoader):
    """ Loads images from a folder """
    def __init__(self, dataset_path):
        # Use OpenCV to gather image files
        # Collect names of image files
        self._files = []
        all_files_in_dir = sorted(os.listdir(dataset_path))
        for name in all_files_in_dir:
            file = os.path.join(dataset_path, name)
            if cv.haveImageReader(file):
                self._files.append(file)

        # Define shape of the model
        self._shape = (8, 8)

    def __len__(self):
        """ Returns the length of the dataset """
        return len(self._files)

    def __getitem__(self, index):
        """ Returns image data by index in the NCHW layout
        Note: model-specific preprocessing is omitted, consider adding it here
        """
        if index >= len(self):
            raise IndexError("Index out of dataset size")

        image = cv.imread(self._files[index], cv.IMREAD_GRAYSCALE)  # read image with OpenCV
        image = cv.resize(image, self._shape)  # resize to a target input size
        image = np.expand_dims(image, 0)  # add batch dimension
        image = np.expand_dims(image, 0)  # add channel dimension (grayscale)
        return image.astype(np.float32), None   # annotation is set to None


path_to_xml, path_to_bin, images, save_path = sys.argv[1:5]

# Model config specifies the name of the model and paths to .xml and .bin files of the model.
model_config = {
    "model_name": "model",
    "model": path_to_xml,
    "weights": path_to_bin,
}

# Engine config.
engine_config = {"device": "CPU"}

algorithms = [
    {
        "name": "DefaultQuantization",
        "params": {
            "target_device": "ANY",
            "stat_subset_size": 300,
            "stat_batch_size": 1
        },
    }
]

# Step 1: Implement and create a user data loader.
data_loader = ImageLoader(images)

# Step 2: Load a model.
model = load_model(model_config=model_config)

# Step 3: Initialize the engine for metric calculation and statistics collection.
engine = IEEngine(config=engine_config, data_loader=data_loader)

# Step 4: Create a pipeline of compression algorithms and run it.
pipeline = create_pipeline(algorithms, engine)
compressed_model = pipeline.run(model=model)

# Step 5 (Optional): Compress model weights to quantized precision
#                     to reduce the size of the final .bin file.
compress_model_weights(compressed_model)

# Step 6: Save the compressed model to the desired path.
# Set save_path to the directory where the model should be saved.
compressed_model_paths = save_model(
    model=compressed_model,
    save_path=save_path,
    model_name="quantized_model",
)
print(compressed_model_paths)
'''


@pytest.mark.int8
def test_pot_style_default_quantization_script_runs_unchanged(tmp_path):
    script = write_text(tmp_path / "quantize_with_pot.py", POT_STYLE_SCRIPT)
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, str(script), str(DIGITS / "model" / "digits.xml"),
                             str(DIGITS / "model" / "digits.bin"), str(DIGITS / "data" / "calib"), str(out)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    expected = [{"name": "quantized_model", "model": str(out / "quantized_model.xml"),
                 "weights": str(out / "quantized_model.bin")}]
    assert result.stdout.strip() == str(expected)
    assert sorted(p.name for p in out.iterdir()) == ["quantized_model.bin", "quantized_model.xml"]
    precisions = operation_precisions(ov.Core().read_model(out / "quantized_model.xml"))
    assert len(precisions) == 5 and in_int8(precisions) == set(precisions), precisions  # 4 convolutions + classifier


# POT's AccuracyAwareQuantization example (seed article, section 2): the Accuracy metric written with plain
# methods for value/avg_value as the article shows them, and pipeline.evaluate at the end.
POT_STYLE_AAQ_SCRIPT = '''
import os
import sys
import numpy as np
import cv2 as cv

from potcli import DataLoader, Metric, IEEngine, load_model, save_model, compress_model_weights, create_pipeline


class UserDataLoader(DataLoader):
    """ Grayscale digits with labels.txt """
    def __init__(self, dataset_path):
        self._items = [line.split() for line in open(os.path.join(dataset_path, "labels.txt"))]
        self._root = dataset_path

    def __len__(self):
        return len(self._items)

    def __getitem__(self, index):
        if index >= len(self):
            raise IndexError("Index out of dataset size")
        name, label = self._items[index]
        image = cv.imread(os.path.join(self._root, name), cv.IMREAD_GRAYSCALE)
        return image[np.newaxis].astype(np.float32), int(label)   # no batch dimension: POT added it


class Accuracy(Metric):

    # Required methods
    def __init__(self, top_k=1):
        super().__init__()
        self._top_k = top_k
        self._name = 'accuracy@top{}'.format(self._top_k)
        self._matches = [] # container of the results

    def value(self):
        """ Returns accuracy metric value for all model outputs. """
        return {self._name: self._matches[-1]}

    def avg_value(self):
        """ Returns accuracy metric value for all model outputs. """
        return {self._name: np.ravel(self._matches).mean()}

    def update(self, output, target):
        """ Updates prediction matches.
        :param output: model output
        :param target: annotations
        """
        if len(output) > 1:
            raise Exception('The accuracy metric cannot be calculated '
                            'for a model with multiple outputs')
        if isinstance(target, dict):
            target = list(target.values())
        predictions = np.argsort(output[0], axis=1)[:, -self._top_k:]
        match = [float(t in predictions[i]) for i, t in enumerate(target)]
        self._matches.append(match)

    def reset(self):
        """ Resets collected matches """
        self._matches = []

    def get_attributes(self):
        """
        Returns a dictionary of metric attributes {metric_name: {attribute_name: value}}.
        Required attributes: 'direction': 'higher-better' or 'higher-worse'
                             'type': metric type
        """
        return {self._name: {'direction': 'higher-better',
                             'type': 'accuracy'}}


path_to_xml, images, save_path = sys.argv[1:4]

# Model config specifies the model name and paths to model .xml and .bin file
model_config = {
    "model_name": "model",
    "model": path_to_xml,
    "weights": path_to_xml.replace(".xml", ".bin"),
}

# Engine config
engine_config = {"device": "CPU"}

algorithms = [
    {
        "name": "AccuracyAwareQuantization",
        "params": {
            "target_device": "ANY",
            "stat_subset_size": 300,
            'maximal_drop': 0.02
        }
    }
]

# Step 1: Implement and create user's data loader.
data_loader = UserDataLoader(images)

# Step 2: Implement and create user's data loader.
metric = Accuracy()

# Step 3: Load the model.
model = load_model(model_config=model_config)

# Step 4: Initialize the engine for metric calculation and statistics collection.
engine = IEEngine(config=engine_config, data_loader=data_loader, metric=metric)

# Step 5: Create a pipeline of compression algorithms and run it.
pipeline = create_pipeline(algorithms, engine)
compressed_model = pipeline.run(model=model)

# Step 6 (Optional): Compress model weights to quantized precision
#                    in order to reduce the size of the final .bin file.
compress_model_weights(compressed_model)

# Step 7: Save the compressed model to the desired path.
# Set save_path to the directory where the model should be saved.
compressed_model_paths = save_model(
    model=compressed_model,
    save_path=save_path,
    model_name="quantized_model",
)

# Step 8 (Optional): Evaluate the compressed model. Print the results.
metric_results = pipeline.evaluate(compressed_model)
print(metric_results)
'''


@pytest.mark.int8
def test_pot_style_accuracy_aware_script_runs_unchanged(tmp_path):
    script = write_text(tmp_path / "aaq_with_pot.py", POT_STYLE_AAQ_SCRIPT)
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, str(script), str(DIGITS / "model" / "digits_outlier.xml"),
                             str(DIGITS / "data" / "calib"), str(out)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    metrics = ast.literal_eval(result.stdout.strip().splitlines()[-1])
    assert metrics["accuracy@top1"] >= 0.98  # FP32 is 1.0 on this split; the budget was 0.02
    precisions = operation_precisions(ov.Core().read_model(out / "quantized_model.xml"))
    assert in_int8(precisions) == set(precisions) - {"res.conv2"} and precisions["res.conv2"] == "f32", precisions
