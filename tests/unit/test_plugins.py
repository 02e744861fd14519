import pytest

from potcli import DataLoader, Metric
from potcli.data.plugins import load_data_loader, load_metric
from potcli.errors import PluginError

LOADER = '''
from potcli import DataLoader

class Loader(DataLoader):
    def __init__(self, n=3):
        self.n = n
    def __len__(self):
        return self.n
    def __getitem__(self, i):
        return i, None

class Outer:
    class Inner(Loader):
        pass

class NoLen:
    def __getitem__(self, i):
        return i

class Exploding(Loader):
    def __init__(self, path):
        raise FileNotFoundError(path)

not_a_class = 42
'''

METRIC = '''
from potcli import Metric

class Good(Metric):
    @property
    def avg_value(self):
        return {"m": 1.0}
    def update(self, output, target):
        pass
    def reset(self):
        pass
    def get_attributes(self):
        return {"m": {"direction": "higher-better", "type": "m"}}

class NoReset:
    def update(self, o, t): pass
    def avg_value(self): return {}
    def get_attributes(self): return {}
'''


@pytest.mark.parametrize("reference", ["myloaders:Loader", "myloaders.Loader", "myloaders:Outer.Inner",
                                       "pkg.sub.loaders:Loader", "pkg.sub.loaders.Loader"])
def test_module_forms_load(mock_module, tmp_path, reference):
    mock_module("myloaders.py", LOADER)
    mock_module("pkg/__init__.py", "")
    mock_module("pkg/sub/__init__.py", "")
    mock_module("pkg/sub/loaders.py", LOADER)
    loader = load_data_loader(reference, {"n": 5}, tmp_path)
    assert len(loader) == 5 and loader[2] == (2, None)


def test_file_form_resolves_relative_to_config_dir(tmp_path):
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "loaders.py").write_text(LOADER)
    loader = load_data_loader("plugins/loaders.py:Loader", {}, tmp_path)
    assert len(loader) == 3


def test_module_next_to_config_is_importable(tmp_path):
    (tmp_path / "beside_config.py").write_text(LOADER)
    assert len(load_data_loader("beside_config:Loader", {"n": 1}, tmp_path)) == 1


def test_metric_loads_with_args(mock_module, tmp_path):
    mock_module("mymetrics.py", METRIC)
    metric = load_metric("mymetrics:Good", {}, tmp_path)
    assert isinstance(metric, Metric) and metric.avg_value == {"m": 1.0}


FAILURES = [  # (id, reference, args, message part)
    ("empty", "", {}, "expected 'pkg.module:Class'"),
    ("no_separator", "Loader", {}, "malformed plugin reference 'Loader'"),
    ("two_colons", "a:b:c", {}, "malformed plugin reference"),
    ("spaces", "my loaders:Loader", {}, "malformed plugin reference"),
    ("missing_module", "no_such_module_xyz:Loader", {}, "no module named 'no_such_module_xyz'"),
    ("missing_file", "nowhere/loaders.py:Loader", {}, "plugin file"),
    ("broken_import", "broken:Loader", {},
     "importing module 'broken' failed: ModuleNotFoundError: No module named 'dep_that_is_not_installed'"),
    ("syntax_error", "syntaxerr:Loader", {}, "importing module 'syntaxerr' failed: SyntaxError"),
    ("missing_attribute", "myloaders:Nope", {}, "has no attribute 'Nope'"),
    ("not_callable", "myloaders:not_a_class", {}, "is a int, not a DataLoader class"),
    ("wrong_shape", "myloaders:NoLen", {}, "does not look like a DataLoader: it has no __len__"),
    ("constructor_raises", "myloaders:Exploding", {"path": "/data"},
     "constructing DataLoader 'myloaders:Exploding' with arguments path='/data' failed: FileNotFoundError: /data"),
    ("unexpected_argument", "myloaders:Loader", {"size": 3}, "failed: TypeError"),
]


@pytest.mark.parametrize("reference,args,message", [f[1:] for f in FAILURES], ids=[f[0] for f in FAILURES])
def test_data_loader_failures_are_distinct_plugin_errors(mock_module, tmp_path, reference, args, message):
    mock_module("myloaders.py", LOADER)
    mock_module("broken.py", "import dep_that_is_not_installed\n")
    mock_module("syntaxerr.py", "def oops(:\n")
    with pytest.raises(PluginError) as info:
        load_data_loader(reference, args, tmp_path)
    assert str(info.value).startswith("engine.data_loader: ")
    assert message in str(info.value)
    assert info.value.exit_code == 1


def test_metric_without_reset_is_rejected(mock_module, tmp_path):
    mock_module("mymetrics.py", METRIC)
    with pytest.raises(PluginError,
                       match=r"engine.metric: 'mymetrics:NoReset' does not look like a Metric: it has no reset"):
        load_metric("mymetrics:NoReset", {}, tmp_path)


def test_pot_style_subclasses_work_unchanged():
    class PotLoader(DataLoader):  # POT passed a config dict and read it by attribute
        def __init__(self, config):
            super().__init__(config)
            self._size = self.config.size

        def __len__(self):
            return self._size

        def __getitem__(self, index):
            return (index, self.config.nested.label)

    loader = PotLoader({"size": 2, "nested": {"label": 7}})
    assert len(loader) == 2 and loader[1] == (1, 7)
    with pytest.raises(AttributeError):
        _ = loader.config.missing  # a typo fails, unlike addict's silent empty Dict

    class PotMetric(Metric):
        def __init__(self):
            self._values = None
            super().__init__()  # POT's Metric.__init__ calls reset()

        @property
        def value(self):
            return {"acc": self._values[-1]}

        @property
        def avg_value(self):
            return {"acc": sum(self._values) / len(self._values)}

        def update(self, output, target):
            self._values.append(float(output == target))

        def reset(self):
            self._values = []

        def get_attributes(self):
            return {"acc": {"direction": "higher-better", "type": "accuracy"}}

    metric = PotMetric()
    metric.update(1, 1)
    metric.update(1, 0)
    assert metric.avg_value == {"acc": 0.5} and metric.value == {"acc": 0.0}
