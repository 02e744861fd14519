"""The user contracts POT defined: subclass DataLoader (and Metric) exactly as with POT.

Signatures follow ``openvino.tools.pot.api`` so existing subclasses work unchanged.
"""
from abc import ABC, abstractmethod


class AttrDict(dict):
    """A dict whose keys also read as attributes (``config.data_source``), as POT's ``addict.Dict`` did, also for
    dicts inside lists (``config.preprocessing[0].type``).

    Unlike addict, a missing key raises AttributeError instead of returning an empty Dict, so a typo fails loudly.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for key, value in self.items():
            super().__setitem__(key, _attribute_access(value))

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name, value):
        self[name] = value

    def __setitem__(self, key, value):
        super().__setitem__(key, _attribute_access(value))


def _attribute_access(value):
    """``value`` with every dict in it (in lists and tuples too) an AttrDict."""
    if isinstance(value, dict) and not isinstance(value, AttrDict):
        return AttrDict(value)
    if isinstance(value, (list, tuple)):
        items = [_attribute_access(item) for item in value]
        return items if isinstance(value, list) else tuple(items)
    return value


class DataLoader(ABC):
    """Dataset access for statistics and evaluation.

    ``__getitem__(index)`` returns ``(data, annotation)`` or ``(data, annotation, metadata)``; ``data`` is an
    ndarray for a single-input model or a dict ``{input_name: ndarray}``.
    """

    def __init__(self, config=None):
        self.config = AttrDict(config or {})

    @abstractmethod
    def __getitem__(self, index):
        """Return the sample at ``index``; raise IndexError past the end."""

    @abstractmethod
    def __len__(self):
        """Number of samples."""


class Metric(ABC):
    """Accuracy measurement, fed one model output at a time.

    ``value`` (per-sample, needed by AccuracyAwareQuantization's ranking) and ``avg_value`` return
    ``{metric_name: number}``; POT declared both as properties, plain methods work too.
    """

    def __init__(self):
        self.reset()

    @property
    def value(self):
        """Metric values for the last model output."""
        raise NotImplementedError("The value() property should be implemented to use this metric with "
                                  "AccuracyAwareQuantization algorithm!")

    @property
    @abstractmethod
    def avg_value(self):
        """Metric values over everything seen since reset()."""

    @property
    def higher_better(self):
        """Whether larger values are better (POT's default: True); get_attributes() gives this per metric and takes
        precedence."""
        return True

    @abstractmethod
    def update(self, output, target):
        """Take one model output (a list of arrays, one per model output) and its annotation."""

    @abstractmethod
    def reset(self):
        """Forget everything seen."""

    def get_attributes(self):
        """``{metric_name: {'direction': 'higher-better' | 'higher-worse', 'type': str}}``."""
        raise NotImplementedError("The get_attributes method should be implemented")
