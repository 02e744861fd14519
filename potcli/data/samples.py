"""Turning what a POT DataLoader returns into model inputs, with a clear error for anything unusable."""
import hashlib
import logging
import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import openvino as ov

from ..errors import DataError, user_code
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


def sample_indices(length: int, subset_size: int | None, shuffle: bool, seed: int) -> Sequence[int]:
    """POT's sampler: the first ``subset_size`` indices, or a seeded random subset (sorted) with shuffle_data.

    Memory follows the subset, not the dataset: a DataLoader may claim 10**12 samples.
    """
    size = length if subset_size is None else min(subset_size, length)
    if subset_size is not None and subset_size > length:
        log.warning("stat_subset_size %d is larger than the dataset (%d samples): using all %d", subset_size,
                    length, length)
    if not shuffle:
        return range(size)
    return sorted(np.random.default_rng(seed).choice(length, size, replace=False).tolist())


def dataset_length(loader) -> int:
    with user_code(lambda why: DataError(f"DataLoader: len() failed: {why}")):
        length = len(loader)
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
        with user_code(lambda why: DataError(f"DataLoader[{index}] raised {why}")):
            item = self.loader[index]
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
    with user_code(lambda why: DataError(f"{where}: cannot be turned into an array: {why}")):
        array = np.asarray(value)
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
    problem = _cast_problem(array, spec.dtype)
    if problem:
        raise DataError(f"{where}: {problem}")
    return np.ascontiguousarray(array, dtype=spec.dtype)


def _cast_problem(array: np.ndarray, target: np.dtype) -> str | None:
    """Why converting ``array`` to the model's ``target`` type would change its values (NaN or Inf, complex
    numbers, fractions or out-of-range values into an integer input, overflow of a float input), or None."""
    if np.issubdtype(array.dtype, np.complexfloating) and not np.issubdtype(target, np.complexfloating):
        return f"complex values cannot feed the model's {target} input"
    if array.size == 0 or array.dtype == np.bool_:
        return None
    if np.issubdtype(array.dtype, np.complexfloating):
        if not np.all(np.isfinite(array)):
            return "contains NaN or Inf"
        return None
    # min and max are NaN if any value is, infinite if any is: one pass each, no mask of the whole input
    smallest, largest = array.min().item(), array.max().item()
    if not (math.isfinite(smallest) and math.isfinite(largest)):
        return "contains NaN or Inf"
    if np.issubdtype(target, np.integer) or target == np.bool_:
        low, high = (0, 1) if target == np.bool_ else (int(np.iinfo(target).min), int(np.iinfo(target).max))
        if np.issubdtype(array.dtype, np.floating):
            fractional = array[np.modf(array)[0] != 0]
            if fractional.size:
                return (f"value {fractional.flat[0]:g} is not an integer, and the model's input is {target}: "
                        f"convert it in the DataLoader")
        if smallest < low or largest > high:
            return f"values {smallest:g}..{largest:g} do not fit the model's {target} input ({low}..{high})"
    elif np.issubdtype(target, np.floating):
        largest = max(abs(smallest), abs(largest))
        if largest > float(np.finfo(target).max):
            return f"value {largest:g} overflows the model's {target} input (at most {np.finfo(target).max:g})"
    return None


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


def update_sample_digest(digest, index: int, inputs: dict[str, np.ndarray]) -> None:
    """Add one prepared sample (model inputs by name) to a hashlib ``digest``: the statistics cache's proof
    that a later run read the same data. Fed as per-sample fingerprints, so that workers that read the samples
    elsewhere (potq run --workers) give the same digest."""
    digest.update(sample_fingerprint(index, inputs))


def sample_fingerprint(index: int, inputs: dict[str, np.ndarray]) -> bytes:
    """SHA-256 of a sample's index and its model inputs (names, types, shapes and values)."""
    digest = hashlib.sha256(str(index).encode())
    for name in sorted(inputs):
        array = np.ascontiguousarray(inputs[name])
        digest.update(f"|{name}|{array.dtype.str}|{array.shape}|".encode())
        digest.update(array.reshape(-1).view(np.uint8))
    return digest.digest()


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

    def __init__(self, loader, budget_bytes: int, only: Collection[int] | None = None):
        self.reader = loader if isinstance(loader, ItemReader) else ItemReader(loader)
        self.budget = budget_bytes
        self.only = None if only is None else frozenset(only)  # the indices worth keeping (None: all)
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
        if self.used + size <= self.budget and (self.only is None or index in self.only):
            self.samples[key] = sample
            self.used += size
        return sample
