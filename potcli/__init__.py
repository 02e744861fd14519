"""potq: OpenVINO's Post-training Optimization Tool (POT) on the current OpenVINO runtime.

POT code keeps working with one changed import::

    from potcli import DataLoader, Metric, IEEngine, load_model, save_model, compress_model_weights, create_pipeline
"""
__version__ = "0.1.0"

from .api import DataLoader, Metric

__all__ = ["DataLoader", "Metric", "__version__"]
