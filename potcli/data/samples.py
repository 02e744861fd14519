"""Turning what a POT DataLoader returns into model inputs, with a clear error for anything unusable."""
import logging
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import openvino as ov

from ..errors import DataError
from .item_forms import Item, announce, recognise, split

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


def output_names(model: ov.Model) -> list[str]:
    """The name of each model output as POT's IEEngine keyed them for postprocess_output: its tensor name, else the
    name of the operation that produces it."""
    return [port.get_any_name() if port.get_names() else port.get_node().input_value(0).get_node().get_friendly_name()
            for port in model.outputs]


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


class ItemReader:
    """A user DataLoader, read as POT read it: the item form (item_forms.py) is recognised on the first item read
    and every later item is read in that form."""

    def __init__(self, loader):
        self.loader = loader
        self.form = None

    def __len__(self):
        return len(self.loader)

    def __getitem__(self, index):
        return self.loader[index]

    def read(self, index: int, specs: list[InputSpec]) -> Item:
        try:
            item = self.loader[index]
        except Exception as e:
            raise DataError(f"DataLoader[{index}] raised {type(e).__name__}: {e}") from e
        if self.form is None:
            self.form = recognise(item, index, lambda data: _usable(data, specs, index))
            announce(self.form)
        return split(self.form, item, index)


def _usable(data, specs: list[InputSpec], index: int) -> bool:
    try:
        to_model_inputs(data, specs, index)
    except DataError:
        return False
    return True


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
    shape, given = spec.shape, list(array.shape)
    if shape.rank.is_static:
        array = _with_model_rank(array, shape)
        if array.ndim != shape.rank.get_length():
            raise DataError(f"{where}: got shape {given}, the model expects {shape} "
                            f"(rank {shape.rank.get_length()}){_order_hint(array, shape)}")
        read_as = "" if list(array.shape) == given else f" (read as {list(array.shape)})"
        for axis, (got, dim) in enumerate(zip(array.shape, shape, strict=True)):
            if dim.is_static and got != dim.get_length():
                raise DataError(f"{where}: got shape {given}{read_as}, the model expects {shape} "
                                f"(axis {axis} must be {dim.get_length()}){_order_hint(array, shape)}")
    if np.issubdtype(array.dtype, np.floating) and not np.all(np.isfinite(array)):
        raise DataError(f"{where}: contains NaN or Inf")
    return np.ascontiguousarray(array, dtype=spec.dtype)


class Sample(NamedTuple):
    inputs: dict[str, np.ndarray]  # checked, keyed by InputSpec.name
    annotation: object
    metadata: object


def _with_model_rank(array: np.ndarray, shape: ov.PartialShape) -> np.ndarray:
    """``array`` with the axes of size 1 it lacks (batch, a single channel) added, as POT reshaped samples; only
    where that keeps every value in place, never by reinterpreting the order of the values."""
    rank = shape.rank.get_length()
    if array.ndim == rank:
        return array
    if shape.is_static and _sizes(array.shape) == _sizes(shape.to_shape()):
        return array.reshape(tuple(shape.to_shape()))
    if array.ndim == rank - 1:
        return array[np.newaxis]  # the batch axis; other axes may be dynamic
    return array


def _sizes(dims) -> list[int]:
    return [int(d) for d in dims if int(d) != 1]


def _order_hint(array: np.ndarray, shape: ov.PartialShape) -> str:
    """A hint when the array holds the model's sizes in another order (an HWC image for a CHW input)."""
    if shape.is_static and sorted(_sizes(array.shape)) == sorted(_sizes(shape.to_shape())):
        return ("; the sizes match in another order: transpose the array to the model's layout (POT reshaped "
                "such arrays, which mixes up their values)")
    return ""


def prepared_sample(loader, index: int, specs: list[InputSpec]) -> Sample:
    """``loader[index]`` as checked model inputs, annotation and metadata; from the cache if ``loader`` keeps one.
    A plain DataLoader (not an ItemReader) has its item form recognised anew on every call."""
    if isinstance(loader, CachedLoader):
        return loader.prepared(index, specs)
    return _prepared(loader if isinstance(loader, ItemReader) else ItemReader(loader), index, specs)


def _prepared(reader: ItemReader, index: int, specs: list[InputSpec]) -> Sample:
    item = reader.read(index, specs)
    return Sample(to_model_inputs(item.data, specs, index), item.annotation, item.metadata)


class CachedLoader:
    """A DataLoader wrapper that keeps samples, read and checked, up to ``budget_bytes`` of array data.

    AccuracyAwareQuantization reads the same samples for the FP32 evaluation, the statistics and every later
    evaluation; reading, decoding and checking them once is much cheaper. Past the budget, samples are read
    from the loader again each time.
    """

    def __init__(self, loader, budget_bytes: int):
        self.reader = loader if isinstance(loader, ItemReader) else ItemReader(loader)
        self.budget = budget_bytes
        self.samples: dict[tuple, Sample] = {}
        self.used = 0

    def __len__(self):
        return len(self.reader)

    def __getitem__(self, index):
        return self.reader[index]

    def prepared(self, index: int, specs: list[InputSpec]) -> Sample:
        key = (index, tuple((spec.name, str(spec.shape), spec.dtype.str) for spec in specs))
        if key in self.samples:
            return self.samples[key]
        sample = _prepared(self.reader, index, specs)
        size = sum(array.nbytes for array in sample.inputs.values())
        if self.used + size <= self.budget:
            self.samples[key] = sample
            self.used += size
        return sample
