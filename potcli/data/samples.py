"""Turning what a POT DataLoader returns into model inputs, with a clear error for anything unusable."""
import logging
from dataclasses import dataclass

import numpy as np
import openvino as ov

from ..errors import DataError

log = logging.getLogger("potq")


@dataclass(frozen=True)
class InputSpec:
    name: str  # the name users write in a data dict (first tensor name, else the Parameter's name)
    aliases: frozenset[str]  # every name that refers to this input
    shape: ov.PartialShape
    dtype: np.dtype


def input_specs(model: ov.Model) -> list[InputSpec]:
    specs = []
    for parameter, port in zip(model.get_parameters(), model.inputs, strict=True):
        names = set(port.get_names()) | {parameter.get_friendly_name()}
        name = sorted(port.get_names())[0] if port.get_names() else parameter.get_friendly_name()
        specs.append(InputSpec(name, frozenset(names), parameter.get_partial_shape(),
                               np.dtype(parameter.get_element_type().to_dtype())))
    return specs


def sample_indices(length: int, subset_size: int | None, shuffle: bool, seed: int) -> list[int]:
    """POT's sampler: the first ``subset_size`` indices, or a seeded random subset (sorted) with shuffle_data."""
    size = length if subset_size is None else min(subset_size, length)
    if subset_size is not None and subset_size > length:
        log.warning("stat_subset_size %d is larger than the dataset (%d samples): using all %d", subset_size,
                    length, length)
    if not shuffle:
        return list(range(size))
    return sorted(np.random.default_rng(seed).permutation(length)[:size].tolist())


def dataset_length(loader) -> int:
    try:
        length = len(loader)
    except Exception as e:
        raise DataError(f"DataLoader: len() failed: {type(e).__name__}: {e}") from e
    if not isinstance(length, (int, np.integer)) or length < 0:
        raise DataError(f"DataLoader: len() returned {length!r}, not a non-negative integer")
    if length == 0:
        raise DataError("DataLoader is empty: len() is 0")
    return int(length)


def read_item(loader, index: int):
    """``(data, annotation)`` of ``loader[index]``, accepting every form POT accepted."""
    try:
        item = loader[index]
    except Exception as e:
        raise DataError(f"DataLoader[{index}] raised {type(e).__name__}: {e}") from e
    if isinstance(item, tuple) and len(item) in (2, 3):
        first, second = item[0], item[1]
        if isinstance(first, tuple) and len(first) == 2 and isinstance(second, (np.ndarray, dict)):
            return second, first  # POT's legacy ((img_id, label), image)
        return first, second
    if isinstance(item, (np.ndarray, dict)):
        return item, None
    raise DataError(f"DataLoader[{index}] returned {type(item).__name__}; expected (data, annotation) or "
                    f"(data, annotation, metadata)")


def to_model_inputs(data, specs: list[InputSpec], index: int) -> dict[str, np.ndarray]:
    """Map a sample's data (an array, or a dict keyed by input name) onto the model's inputs, checked."""
    if isinstance(data, dict):
        by_alias = {alias: spec for spec in specs for alias in spec.aliases}
        unknown = [key for key in data if key not in by_alias]
        if unknown:
            raise DataError(f"DataLoader[{index}]: unknown input name {unknown[0]!r}; the model's inputs are "
                            f"{', '.join(repr(s.name) for s in specs)}")
        arrays = {by_alias[key].name: value for key, value in data.items()}
        missing = [spec.name for spec in specs if spec.name not in arrays]
        if missing:
            raise DataError(f"DataLoader[{index}]: no data for model input {missing[0]!r}")
    elif len(specs) == 1:
        arrays = {specs[0].name: data}
    else:
        raise DataError(f"DataLoader[{index}]: the model has {len(specs)} inputs "
                        f"({', '.join(repr(s.name) for s in specs)}): return a dict keyed by input name")
    spec_of = {spec.name: spec for spec in specs}
    return {name: _checked_array(value, spec_of[name], index) for name, value in arrays.items()}


def _checked_array(value, spec: InputSpec, index: int) -> np.ndarray:
    where = f"DataLoader[{index}] input {spec.name!r}"
    try:
        array = np.asarray(value)
    except Exception as e:
        raise DataError(f"{where}: cannot be turned into an array: {e}") from e
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise DataError(f"{where}: dtype {array.dtype} is not numeric")
    shape = spec.shape
    if shape.rank.is_static:
        if array.ndim == shape.rank.get_length() - 1:
            array = array[np.newaxis]  # POT stacked samples given without the batch dimension
        if array.ndim != shape.rank.get_length():
            raise DataError(f"{where}: got shape {list(array.shape)}, the model expects {shape} "
                            f"(rank {shape.rank.get_length()})")
        for axis, (got, dim) in enumerate(zip(array.shape, shape, strict=True)):
            if dim.is_static and got != dim.get_length():
                raise DataError(f"{where}: got shape {list(array.shape)}, the model expects {shape} "
                                f"(axis {axis} must be {dim.get_length()})")
    if np.issubdtype(array.dtype, np.floating) and not np.all(np.isfinite(array)):
        raise DataError(f"{where}: contains NaN or Inf")
    return np.ascontiguousarray(array, dtype=spec.dtype)


def update_sample_digest(digest, index: int, inputs: dict[str, np.ndarray]) -> None:
    """Add one prepared sample (model inputs by name) to a hashlib ``digest``: the statistics cache's proof
    that a later run read the same data."""
    digest.update(str(index).encode())
    for name in sorted(inputs):
        array = np.ascontiguousarray(inputs[name])
        digest.update(f"|{name}|{array.dtype.str}|{array.shape}|".encode())
        digest.update(array.reshape(-1).view(np.uint8))


def prepared_sample(loader, index: int, specs: list[InputSpec]) -> tuple[dict[str, np.ndarray], object]:
    """``(model inputs, annotation)`` of ``loader[index]``, checked; from the cache if ``loader`` keeps one."""
    if isinstance(loader, CachedLoader):
        return loader.prepared(index, specs)
    data, annotation = read_item(loader, index)
    return to_model_inputs(data, specs, index), annotation


class CachedLoader:
    """A DataLoader wrapper that keeps samples, read and checked, up to ``budget_bytes`` of array data.

    AccuracyAwareQuantization reads the same samples for the FP32 evaluation, the statistics and every later
    evaluation; reading, decoding and checking them once is much cheaper. Past the budget, samples are read
    from the loader again each time.
    """

    def __init__(self, loader, budget_bytes: int):
        self.loader = loader
        self.budget = budget_bytes
        self.samples: dict[tuple, tuple[dict[str, np.ndarray], object]] = {}
        self.used = 0

    def __len__(self):
        return len(self.loader)

    def __getitem__(self, index):
        return self.loader[index]

    def prepared(self, index: int, specs: list[InputSpec]) -> tuple[dict[str, np.ndarray], object]:
        key = (index, tuple((spec.name, str(spec.shape), spec.dtype.str) for spec in specs))
        if key in self.samples:
            return self.samples[key]
        data, annotation = read_item(self.loader, index)
        sample = to_model_inputs(data, specs, index), annotation
        size = sum(array.nbytes for array in sample[0].values())
        if self.used + size <= self.budget:
            self.samples[key] = sample
            self.used += size
        return sample
