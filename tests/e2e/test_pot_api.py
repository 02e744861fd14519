"""A script written in POT's documented style (../shared/seed) runs with only the import line changed."""
import subprocess
import sys

import openvino as ov

from ..conftest import REPO, runtime_precisions, write_text

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
    precisions = runtime_precisions(ov.Core().read_model(out / "quantized_model.xml"))
    assert sorted(precisions.values()) == ["u8"] * 5, precisions  # 4 convolutions + the classifier, no FakeQuantize
