"""The rest of POT's Python API that user code touches: its module paths, the Engine base class, IEEngine.predict
and its hook, CompressedModel, the graph.model_utils helpers, and DataLoader items in POT 2021's forms."""
import importlib

import numpy as np
import pytest

import potcli
from potcli.errors import MetricError, PluginError
from potcli.pot import CompressedModel, DataLoader, Engine, IEEngine, Metric, create_pipeline
from potcli.pot.graph.model_utils import add_outputs, get_all_operation_nodes, get_node_by_name, get_nodes_by_type

from .. import models


@pytest.mark.parametrize("module,names", [
    ("potcli.pot.api", ["DataLoader", "Metric", "Engine"]),
    ("potcli.pot.engines.ie_engine", ["IEEngine"]),
    ("potcli.pot.graph", ["load_model", "save_model"]),
    ("potcli.pot.graph.model_utils", ["compress_model_weights", "get_nodes_by_type", "get_node_by_name",
                                      "add_outputs", "load_model", "save_model"]),
    ("potcli.pot.graph.nx_model", ["CompressedModel"]),
    ("potcli.pot.pipeline.initializer", ["create_pipeline"]),
    ("potcli.pot.utils.logger", ["init_logger", "get_logger"]),
])
def test_pot_module_paths_hold_potqs_objects(module, names):
    imported = importlib.import_module(module)
    for name in names:
        same = getattr(potcli.pot, name, None) or getattr(potcli.pot.graph.model_utils, name, None)
        assert getattr(imported, name) is same or name in ("init_logger", "get_logger")


class Labelled(DataLoader):
    """conv_relu inputs; the label of sample i is i % 3, in the item form given."""

    def __init__(self, form, count=6):
        super().__init__({})
        self.form, self.count = form, count

    def __len__(self):
        return self.count

    def __getitem__(self, index):
        if index >= self.count:
            raise IndexError(index)
        image = np.random.default_rng(index).standard_normal((1, 3, 8, 8)).astype(np.float32)
        label = index % 3
        return {"standard": (image, label), "id_tuple": ((f"img{index}", label), image),
                "id_dict": ({f"img{index}": label}, image), "id_tuple_meta": ((index, label), image, {"i": index}),
                }[self.form]


class Targets(Metric):
    """Records every target it gets; its score is the share of integer targets."""

    def __init__(self):
        super().__init__()
        self.seen = []

    @property
    def value(self):
        return {"ints": [float(isinstance(self.seen[-1], int))]}

    @property
    def avg_value(self):
        return {"ints": float(np.mean([isinstance(t, int) for t in self.seen]))}

    def update(self, output, target):
        self.seen.extend(target)

    def reset(self):
        self.seen = []

    def get_attributes(self):
        return {"ints": {"direction": "higher-better", "type": "check"}}


@pytest.mark.parametrize("form", ["standard", "id_tuple", "id_dict", "id_tuple_meta"])
def test_metric_gets_the_label_whatever_the_item_form(form):
    metric = Targets()
    engine = IEEngine({}, Labelled(form), metric)
    pipeline = create_pipeline([{"name": "DefaultQuantization"}], engine)
    assert pipeline.evaluate(CompressedModel(models.conv_relu(), "m")) == {"ints": 1.0}
    assert metric.seen == [0, 1, 2, 0, 1, 2]  # not (img_id, label)


def test_predict_evaluates_the_model_set_and_reports_per_sample_values():
    engine = IEEngine({}, Labelled("standard"), Targets())
    engine.set_model(CompressedModel(models.conv_relu(), "m"))
    assert engine.predict() == ({"ints": 1.0}, {})
    (per_sample, metrics), statistics = engine.predict(sampler=[4, 1], metric_per_sample=True)
    assert per_sample == [{"sample_id": 1, "metric_name": "ints", "result": 1.0},
                          {"sample_id": 4, "metric_name": "ints", "result": 1.0}]
    assert metrics == {"ints": 1.0} and statistics == {}
    with pytest.raises(NotImplementedError, match="potq collects statistics itself"):
        engine.predict(stats_layout={"conv1": {}})


def test_hook_that_raises_is_a_metric_error_naming_the_sample():
    class Broken(IEEngine):
        def postprocess_output(self, outputs, metadata):
            raise KeyError("logits")

    engine = Broken({}, Labelled("id_tuple_meta"), Targets())
    with pytest.raises(MetricError, match=r"postprocess_output\(\) raised KeyError on sample 0: 'logits'"):
        create_pipeline([{"name": "DefaultQuantization"}], engine).evaluate(CompressedModel(models.conv_relu(), "m"))


def test_hook_gets_outputs_by_name_and_the_items_metadata():
    seen = []

    class Recording(IEEngine):
        def postprocess_output(self, outputs, metadata):
            seen.append((sorted(outputs), metadata))
            return list(outputs.values())

    engine = Recording({}, Labelled("id_tuple_meta", count=2), Targets())
    create_pipeline([{"name": "DefaultQuantization"}], engine).evaluate(CompressedModel(models.conv_relu(), "m"))
    assert seen == [(["output"], [{"i": 0}]), (["output"], [{"i": 1}])]


def test_an_engine_that_is_not_an_ieengine_is_refused_with_what_to_do():
    class Custom(Engine):
        def predict(self, stats_layout=None, sampler=None, stat_aliases=None, metric_per_sample=False,
                    print_progress=False):
            return {}, {}

    engine = Custom({"device": "CPU"}, Labelled("standard"))
    assert engine.config.device == "CPU" and engine.data_loader is not None
    with pytest.raises(PluginError, match="the engine is a Custom, not an IEEngine: potq runs the inference itself"):
        create_pipeline([{"name": "DefaultQuantization"}], engine)


def test_compressed_model_save_and_models(tmp_path):
    model = CompressedModel(models.conv_relu(), "m")
    assert model.models == [{"model": model.model}] and model.is_cascade is False
    paths = model.save(tmp_path, model_name="saved")
    assert paths == [{"name": "saved", "model": str(tmp_path / "saved.xml"), "weights": str(tmp_path / "saved.bin")}]
    assert (tmp_path / "saved.xml").exists()


def test_model_utils_helpers_find_nodes_and_add_outputs():
    model = CompressedModel(models.conv_relu(), "m")
    assert [node.get_friendly_name() for node in get_nodes_by_type(model, ["Convolution"])] == ["conv1", "conv2"]
    assert get_node_by_name(model, "conv1/relu").get_type_name() == "Relu"
    assert get_node_by_name(model, "nothing") is None
    assert len(get_all_operation_nodes(model)) == len(model.model.get_ordered_ops())
    added = add_outputs(model.models, ["conv1/relu"])
    assert list(added) == [model.model.get_friendly_name()] and len(model.model.outputs) == 2


def test_metric_higher_better_defaults_to_true_as_in_pot():
    assert Targets().higher_better is True
