"""How a worker gets the run's DataLoader: it builds its own, from the config's plugin reference, or from the
object itself, pickled (POT's Python API and simplified mode hand potq an object, not a reference)."""
import hashlib
import pickle
from dataclasses import dataclass
from pathlib import Path

import cloudpickle

from ..data.plugins import load_data_loader
from ..errors import PluginError, describe_exception, user_code


@dataclass(frozen=True)
class PluginRecipe:
    """``engine.data_loader`` of a config: the worker imports the class by its reference and constructs it."""

    reference: str
    args: dict
    config_dir: str  # the config's folder, as this machine sees it: workers elsewhere need the same path

    def build(self):
        return load_data_loader(self.reference, self.args, Path(self.config_dir))


@dataclass(frozen=True)
class ObjectRecipe:
    """A DataLoader object, pickled with cloudpickle (classes defined in a script travel by value)."""

    pickled: bytes

    def build(self):
        with user_code(lambda why: PluginError(f"the DataLoader sent from the main process cannot be rebuilt "
                                               f"here: {why}")):
            return pickle.loads(self.pickled)


def object_recipe(loader) -> ObjectRecipe:
    """PluginError if ``loader`` cannot be sent to workers (it holds an open file, a lock, a generator...)."""
    try:
        return ObjectRecipe(cloudpickle.dumps(loader))
    except Exception as e:
        raise PluginError(f"the DataLoader ({type(loader).__name__}) cannot be sent to the cluster's workers: "
                          f"pickling it failed: {describe_exception(e)}; name its class in a config's "
                          f"engine.data_loader instead, or make it picklable") from e


def recipe_key(recipe: PluginRecipe | ObjectRecipe) -> str:
    """The same for the same recipe: a worker keeps the DataLoader (and its samples) built from it."""
    return hashlib.sha256(pickle.dumps(recipe)).hexdigest()
