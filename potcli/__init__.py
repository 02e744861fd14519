"""potq: OpenVINO's Post-training Optimization Tool (POT) on the current OpenVINO runtime.

POT code keeps working with one changed import::

    from potcli import DataLoader, Metric, IEEngine, load_model, save_model, compress_model_weights, create_pipeline
"""
__version__ = "0.1.0"

from .api import DataLoader, Metric  # noqa: E402  (the version must exist before submodules import it)
from .pot_api import IEEngine, compress_model_weights, create_pipeline, load_model, save_model  # noqa: E402

__all__ = ["DataLoader", "Metric", "IEEngine", "load_model", "save_model", "compress_model_weights",
           "create_pipeline", "__version__"]
