"""The forms a POT DataLoader item took, recognised on the first item read and kept for the rest.

POT read ``(data, annotation)`` and ``(data, annotation, metadata)``; its 2021 releases also ``((id, annotation),
data)`` and ``({id: annotation}, data)`` (each with optional metadata). The form is told from the first item: which
element can be the model's input data (an array, or a dict keyed by input name) and what the other one looks like.
A 2021 form is said once on stderr; an item that fits two forms is an error naming them, never a guess.
"""
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..errors import DataError

log = logging.getLogger("potq")


class Item(NamedTuple):
    data: object  # an array, or a dict keyed by input name
    annotation: object
    metadata: object  # what POT passed to IEEngine.postprocess_output; {} when the item has none


@dataclass(frozen=True)
class ItemForm:
    name: str
    legacy: bool  # a POT 2021 form: announced when found
    split: Callable[[tuple], Item]


def _metadata(item: tuple):
    return item[2] if len(item) == 3 else {}


STANDARD = ItemForm("(data, annotation[, metadata])", False, lambda item: Item(item[0], item[1], _metadata(item)))
ID_TUPLE = ItemForm("((id, annotation), data[, metadata])", True,
                    lambda item: Item(item[1], item[0][1], _metadata(item)))
ID_DICT = ItemForm("({id: annotation}, data[, metadata])", True,
                   lambda item: Item(item[1], next(iter(item[0].values())), _metadata(item)))
DATA_ONLY = ItemForm("data without annotation", False, lambda item: Item(item, None, {}))
FORMS = (STANDARD, ID_TUPLE, ID_DICT)


def recognise(item, index: int, usable_data: Callable[[object], bool]) -> ItemForm:
    """The form of ``item`` (``loader[index]``); ``usable_data(x)`` says whether ``x`` can be the model's input."""
    if isinstance(item, (np.ndarray, dict)):
        return DATA_ONLY
    if not isinstance(item, tuple) or len(item) not in (2, 3):
        raise DataError(f"DataLoader[{index}] returned {_shape_of(item)}; expected one of POT's item forms: "
                        f"{_listed(FORMS)}")
    first, second = item[0], item[1]
    candidates = [form for form, fits in (
        (STANDARD, usable_data(first)),
        (ID_TUPLE, isinstance(first, tuple) and len(first) == 2 and usable_data(second)),
        (ID_DICT, isinstance(first, dict) and len(first) == 1 and not usable_data(first) and usable_data(second)),
    ) if fits]
    if len(candidates) > 1:
        raise DataError(f"DataLoader[{index}] returned {_shape_of(item)}, which fits {_listed(candidates)}: "
                        f"return (data, annotation) so that it reads one way")
    if candidates:
        return candidates[0]
    if isinstance(first, tuple):
        raise DataError(f"DataLoader[{index}] returned {_shape_of(item)}; with a tuple first, POT read "
                        f"{ID_TUPLE.name} and item[1] must be the model's input data")
    return STANDARD  # reading it says what is wrong with the data (shape, dtype, input names)


def announce(form: ItemForm) -> None:
    if form.legacy:
        log.warning("DataLoader items have POT 2021's form %s: the model gets the data, the Metric the annotation "
                    "(the id is dropped)", form.name)


def split(form: ItemForm, item, index: int) -> Item:
    """``item`` read in ``form`` (found on an earlier item); DataError if it has another shape."""
    try:
        if form is DATA_ONLY or (isinstance(item, tuple) and len(item) in (2, 3)):
            return form.split(item)
    except (TypeError, IndexError, KeyError, StopIteration):
        pass
    raise DataError(f"DataLoader[{index}] returned {_shape_of(item)}, not the form of the first item read, "
                    f"{form.name}")


def _listed(forms) -> str:
    return ", ".join(form.name for form in forms)


def _shape_of(value) -> str:
    """``(tuple, ndarray)``-style outline of an item, for messages."""
    if isinstance(value, tuple):
        return "(" + ", ".join(_shape_of(part) for part in value) + ")"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key!r}: {type(part).__name__}" for key, part in list(value.items())[:3]) + "}"
    return type(value).__name__
