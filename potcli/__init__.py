"""potq: OpenVINO's Post-training Optimization Tool (POT) on the current OpenVINO runtime.

POT code keeps working with one changed import::

    from potcli import DataLoader, Metric, IEEngine, load_model, save_model, compress_model_weights, create_pipeline

POT's submodules (``openvino.tools.pot.utils.logger`` and others) are under ``potcli.pot``.

The POT names are imported on first use, so that ``potq validate`` and ``potq schema`` start without OpenVINO.
"""
import importlib

from .version import __version__

__all__ = ["DataLoader", "Metric", "Engine", "IEEngine", "CompressedModel", "load_model", "save_model",
           "compress_model_weights", "create_pipeline", "__version__"]


def __getattr__(name: str):
    if name in __all__:
        return getattr(importlib.import_module(".pot", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
