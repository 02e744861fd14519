"""Memory does not grow with stat_subset_size, even when every sample is a large tensor pulled into Python."""
import tracemalloc

from potcli import IEEngine, create_pipeline
from potcli.pot.api import CompressionModel

from .. import models
from .plugins import ArrayLoader

SIZE = 384  # a 1x3x384x384 float32 sample is 1.7 MiB; its conv activations 4.5 MiB


def peak_python_memory(subset_size: int) -> int:
    """Peak bytes allocated through Python (numpy included) while quantizing with ``subset_size`` samples.

    The quantile estimator cannot be reduced inside the model, so every sample's activations are copied out.
    """
    loader = ArrayLoader(shape=(1, 3, SIZE, SIZE), count=subset_size)
    params = {"stat_subset_size": subset_size, "range_estimator": {"max": {"type": "quantile", "aggregator": "median"}}}
    pipeline = create_pipeline([{"name": "DefaultQuantization", "params": params}], IEEngine({}, loader))
    model = models.conv_relu(size=SIZE)
    tracemalloc.start()
    try:
        pipeline.run(CompressionModel(model, "m"))
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_peak_memory_does_not_grow_with_the_number_of_samples():
    few, many = peak_python_memory(4), peak_python_memory(24)
    activation = 8 * SIZE * SIZE * 4
    assert many - few < activation, (few, many)  # 20 more samples would add 20 x 4.5 MiB if they were kept
