"""``potq init MODEL``: a commented starter config for a model, written from the model's inputs.

With ``--data`` naming a folder of images (and a model with one image input), the config uses POT's
simplified mode and reads them directly. Otherwise it names a DataLoader skeleton written next to it, which
reads ``.npy`` / ``.npz`` files from ``--data`` or, without it, makes random placeholder samples of the right
shapes, so that ``potq validate`` accepts the config and ``potq run`` runs it before the user has edited
anything. ``starter_files`` only composes the texts; the command writes them.
"""
import logging
import os
from pathlib import Path
from string import Template

from .config.settings import CONFIG_DIR_PLACEHOLDER
from .data.image_folder import image_files, input_layout
from .data.samples import InputSpec, input_specs
from .errors import DataError, ModelError
from .graph.model_io import read_model

log = logging.getLogger("potq")
LOADER_CLASS = "StarterLoader"
DYNAMIC_SIZE = 16  # placeholder size of a dynamic non-batch dimension in the skeleton


def starter_files(model_path: Path, data: Path | None, config_path: Path) -> dict[Path, str]:
    """``{path: text}`` of the starter config and, unless the data is an image folder, its DataLoader."""
    model = read_model(model_path)
    specs = input_specs(model)
    base = config_path.resolve().parent
    images = data is not None and len(specs) == 1 and _is_image_folder(data)
    header = _header(model_path, specs, config_path)
    model_block = (f"model:\n  model_name: {Path(model_path).stem}\n"
                   f"  model: {_relative(model_path, base)}          # paths are relative to this file's folder\n")
    if images:
        return {config_path: header + model_block + _simplified_engine(data, model, specs[0], base) + COMPRESSION}
    if data is not None and not any(Path(data).glob("*.np[yz]")):
        log.warning("%s holds no images for this model and no .npy/.npz files: edit %s to read it", data,
                    _loader_path(config_path).name)
    loader = _loader_path(config_path)
    return {config_path: header + model_block + _plugin_engine(loader.name, data, base) + COMPRESSION,
            loader: _loader_text(model_path, specs)}


def _loader_path(config_path: Path) -> Path:
    return config_path.with_name(f"{config_path.stem}_loader.py")


def _is_image_folder(data: Path) -> bool:
    try:
        return Path(data).is_dir() and bool(image_files(Path(data)))
    except DataError:
        return False


def _relative(path: Path, base: Path) -> str:
    """``path`` relative to the config's folder when they share a folder below the root, else absolute."""
    path = Path(path).resolve()
    if Path(os.path.commonpath([path, base])) == Path(path.anchor):
        return path.as_posix()
    return Path(os.path.relpath(path, base)).as_posix()


def _shape_text(spec: InputSpec) -> str:
    return str(spec.shape).replace(" ", "")


def _header(model_path: Path, specs: list[InputSpec], config_path: Path) -> str:
    inputs = "".join(f"#   {spec.name}: {_shape_text(spec)} {spec.dtype}\n" for spec in specs)
    return (f"# potq starter config for {Path(model_path).name}, written by `potq init`.\n"
            f"#   potq validate {config_path.name}          # check it\n"
            f"#   potq run {config_path.name} --dry-run     # what would be quantized, without reading data\n"
            f"#   potq run {config_path.name}               # quantize: results/{Path(model_path).stem}/\n"
            f"# Model inputs:\n{inputs}")


def _simplified_engine(data: Path, model, spec: InputSpec, base: Path) -> str:
    try:
        layout = input_layout(model, None)  # the model's own layout, else the channel axis, as potq run reads it
    except ModelError:
        layout = "NCHW"
    return ("engine:\n"
            "  type: simplified                # POT's image-folder mode: every image, read with OpenCV (BGR, 0..255)\n"
            f"  data_source: {_relative(data, base)}\n"
            f"  layout: {layout}                    # of the model's input {_shape_text(spec)}\n"
            "  # Images go into the model as they are: resized, no mean/scale. If the model expects normalized\n"
            "  # input, write a DataLoader instead (potq init without --data writes a skeleton).\n")


def _plugin_engine(loader_file: str, data: Path | None, base: Path) -> str:
    args = f'{{data_dir: "{CONFIG_DIR_PLACEHOLDER}/{_relative(data, base)}"}}' if data is not None else "{}"
    note = "reads .npy/.npz files of data_dir" if data is not None else "random placeholders until you edit it"
    return ("engine:\n"
            f"  data_loader: {loader_file}:{LOADER_CLASS}   # {note}\n"
            f"  data_loader_args: {args}\n"
            "  # metric: my_metric.py:MyMetric   # a POT-style Metric: enables potq eval, the metric in the summary,\n"
            "  #                                 # and AccuracyAwareQuantization\n")


COMPRESSION = """compression:
  target_device: CPU                # ANY, CPU, CPU_SPR, GPU or NPU
  algorithms:
    - name: DefaultQuantization
      params:
        preset: performance         # performance: symmetric activations; mixed: asymmetric (activations that
                                    # are not ReLU outputs often keep more accuracy)
        stat_subset_size: 300       # samples the statistics are collected on
        # ignored:                  # layers to keep in floating point, e.g. the last classifier:
        #   scope: [node_name]
        #   patterns: [".*head.*"]
# With a Metric, AccuracyAwareQuantization instead reverts layers to FP32 until the drop is within budget:
#    - name: AccuracyAwareQuantization
#      params: {preset: performance, stat_subset_size: 300, maximal_drop: 0.01}
"""


def _loader_text(model_path: Path, specs: list[InputSpec]) -> str:
    inputs = ",\n".join(f"    {spec.name!r}: ({_placeholder_shape(spec)}, {spec.dtype.name!r})" for spec in specs)
    return LOADER_TEMPLATE.substitute(model=Path(model_path).name, inputs=inputs, cls=LOADER_CLASS)


def _placeholder_shape(spec: InputSpec) -> list[int]:
    if spec.shape.rank.is_dynamic:
        return [1, DYNAMIC_SIZE]
    return [d.get_length() if d.is_static else (1 if axis == 0 else DYNAMIC_SIZE) for axis, d in enumerate(spec.shape)]


LOADER_TEMPLATE = Template('''"""DataLoader for $model, written by `potq init`: edit it to return your own samples.

potq calls len(loader) and loader[index]; loader[index] returns (data, annotation): data is a dict of arrays
keyed by input name (an array alone will do for a model with one input), the annotation is what a Metric
needs (None for quantization alone). Dynamic dimensions of the model are given placeholder sizes below.
"""
import glob
import os
import sys

import numpy as np

from potcli import DataLoader

INPUTS = {  # name: (shape, dtype) of each model input
$inputs,
}


class $cls(DataLoader):
    def __init__(self, data_dir=None, count=300, seed=0):
        super().__init__({"data_dir": data_dir})
        # Samples as .npy files (one array, for a model with one input) or .npz files (one array per input name).
        self.files = sorted(glob.glob(os.path.join(data_dir, "*.np[yz]"))) if data_dir else []
        if data_dir and not self.files:
            raise FileNotFoundError(f"no .npy or .npz files in {data_dir}")
        if not data_dir:
            print("$cls: no data_dir: random placeholder samples (ranges from them are meaningless)",
                  file=sys.stderr)
        self.count, self.seed = (len(self.files) if self.files else count), seed

    def __len__(self):
        return self.count

    def __getitem__(self, index):
        if index >= len(self):
            raise IndexError(index)
        if self.files:
            loaded = np.load(self.files[index])
            if isinstance(loaded, np.ndarray):
                return loaded, None
            return {name: loaded[name] for name in INPUTS}, None
        # TODO: replace the placeholders with real samples, preprocessed as the model expects.
        rng = np.random.default_rng(self.seed + index)
        return {name: (rng.integers(0, 2, shape) if np.issubdtype(np.dtype(dtype), np.integer)
                       else rng.standard_normal(shape)).astype(dtype)
                for name, (shape, dtype) in INPUTS.items()}, None
''')
