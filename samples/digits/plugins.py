"""DataLoader and Metric for the digits sample, written the way POT's documentation wrote them.

Only the import differs from POT: ``from potcli import DataLoader, Metric``.
"""
import os

import cv2 as cv
import numpy as np

from potcli import DataLoader, Metric


class ImageLoader(DataLoader):
    """Grayscale PNGs of a folder with their labels (``labels.txt``: ``<file> <label>`` per line)."""

    def __init__(self, dataset_path, labels_file="labels.txt"):
        super().__init__({"dataset_path": dataset_path})
        self._files, self._labels = [], []
        with open(os.path.join(dataset_path, labels_file), encoding="utf-8") as f:
            for line in f:
                name, label = line.split()
                self._files.append(os.path.join(dataset_path, name))
                self._labels.append(int(label))

    def __len__(self):
        return len(self._files)

    def __getitem__(self, index):
        if index >= len(self):
            raise IndexError("Index out of dataset size")
        # np.fromfile + imdecode rather than cv.imread: it also reads files whose path is not UTF-8
        image = cv.imdecode(np.fromfile(self._files[index], np.uint8), cv.IMREAD_GRAYSCALE)
        if image is None:
            raise OSError(f"cannot read image {self._files[index]}")
        # The model normalizes raw 0..255 pixels itself; it takes NCHW [1, 1, 8, 8].
        return image.astype(np.float32)[np.newaxis, np.newaxis], self._labels[index]


class Accuracy(Metric):
    """Top-k accuracy over the model's single output (logits)."""

    def __init__(self, top_k=1):
        self._top_k = top_k
        self._name = f"accuracy@top{top_k}"
        super().__init__()

    @property
    def value(self):
        return {self._name: self._matches[-1]}

    @property
    def avg_value(self):
        return {self._name: float(np.mean(self._matches))}

    def update(self, output, target):
        if len(output) > 1:
            raise ValueError("the accuracy metric needs a model with exactly one output")
        predictions = np.argsort(output[0], axis=1)[:, -self._top_k:]
        targets = np.atleast_1d(target)
        self._matches.append(float(np.mean([t in predictions[i] for i, t in enumerate(targets)])))

    def reset(self):
        self._matches = []

    def get_attributes(self):
        return {self._name: {"direction": "higher-better", "type": "accuracy"}}
