"""Every DataLoader item form POT accepted is recognised on the first item; an item that fits two is an error."""
import logging

import numpy as np
import pytest

from potcli.data.item_forms import DATA_ONLY, ID_DICT, ID_TUPLE, STANDARD, recognise, split
from potcli.data.samples import InputSpec, ItemReader
from potcli.errors import DataError

IMAGE = np.zeros((1, 3, 8, 8), np.float32)


def is_image(value) -> bool:
    return isinstance(value, np.ndarray) and value.shape == IMAGE.shape or \
        isinstance(value, dict) and set(value) == {"image"}


FORMS = [  # (id, item, form, annotation, metadata)
    ("data_annotation", (IMAGE, 7), STANDARD, 7, {}),
    ("data_annotation_metadata", (IMAGE, 7, {"size": 8}), STANDARD, 7, {"size": 8}),
    ("dict_data", ({"image": IMAGE}, 7), STANDARD, 7, {}),
    ("id_tuple", ((0, 7), IMAGE), ID_TUPLE, 7, {}),
    ("id_tuple_metadata", ((0, 7), IMAGE, {"size": 8}), ID_TUPLE, 7, {"size": 8}),
    ("id_dict", ({"img_0": 7}, IMAGE), ID_DICT, 7, {}),
    ("id_dict_dict_data", ({0: 7}, {"image": IMAGE}), ID_DICT, 7, {}),
    ("data_only", IMAGE, DATA_ONLY, None, {}),
]


@pytest.mark.parametrize("item,form,annotation,metadata", [c[1:] for c in FORMS], ids=[c[0] for c in FORMS])
def test_each_form_is_recognised_and_split_into_data_annotation_metadata(item, form, annotation, metadata):
    assert recognise(item, 0, is_image) is form
    data, got_annotation, got_metadata = split(form, item, 0)
    assert is_image(data) and got_annotation == annotation and got_metadata == metadata


def test_an_item_that_fits_two_forms_is_an_error_naming_them():
    # a model whose input is two numbers: (0, 7) may be the data or POT 2021's (id, annotation)
    two_numbers = np.array([3.0, 4.0])
    with pytest.raises(DataError) as error:
        recognise(((0, 7), two_numbers), 0, lambda value: np.size(value) == 2)
    assert str(error.value) == ("DataLoader[0] returned ((int, int), ndarray), which fits (data, annotation"
                                "[, metadata]), ((id, annotation), data[, metadata]): return (data, annotation) "
                                "so that it reads one way")


def test_no_form_fits_names_the_forms():
    with pytest.raises(DataError, match=r"DataLoader\[2\] returned \(ndarray, int, int, int\); expected one of "
                                        r"POT's item forms: \(data, annotation\[, metadata\]\), "):
        recognise((IMAGE, 1, 2, 3), 2, is_image)
    with pytest.raises(DataError, match=r"with a tuple first, POT read \(\(id, annotation\), data"):
        recognise(((0, 7), "not data"), 0, is_image)


def test_later_items_must_keep_the_first_items_form():
    with pytest.raises(DataError, match=r"DataLoader\[5\] returned \(ndarray, int\), not the form of the first "
                                        r"item read, \(\(id, annotation\), data\[, metadata\]\)"):
        split(ID_TUPLE, (IMAGE, 7), 5)


class Loader:
    def __init__(self, items):
        self.items = items

    def __len__(self):
        return len(self.items)

    def __getitem__(self, index):
        return self.items[index]


def test_reader_recognises_once_and_announces_a_2021_form_once():
    import openvino as ov
    records = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = records.append
    logging.getLogger("potq").addHandler(handler)
    try:
        spec = InputSpec("image", frozenset({"image"}), ov.PartialShape([1, 3, 8, 8]), np.dtype(np.float32))
        reader = ItemReader(Loader([((i, i % 10), IMAGE) for i in range(4)]))
        annotations = [reader.read(i, [spec]).annotation for i in range(4)]
    finally:
        logging.getLogger("potq").removeHandler(handler)
    assert annotations == [0, 1, 2, 3] and reader.form is ID_TUPLE
    assert [r.getMessage() for r in records] == [
        "DataLoader items have POT 2021's form ((id, annotation), data[, metadata]): the model gets the data, the "
        "Metric the annotation (the id is dropped)"]
