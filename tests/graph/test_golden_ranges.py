"""FakeQuantize ranges of a few models against reference values recorded in tests/data/golden/ranges.json.

The references were first recorded before potcli/ was reorganised into packages, so a restructuring that
changes any range fails here. Regenerate (only for an intended change of the range math, and say so in the
commit) with ``python -m pytest tests/graph/test_golden_ranges.py --regen-golden``.
Values are compared with a small relative tolerance: f32 inference differs in the last bits between CPUs.
"""
import json

import numpy as np
import pytest

from potcli import IEEngine, create_pipeline, load_model

from .. import models
from ..conftest import REPO, ListLoader

GOLDEN = REPO / "tests" / "data" / "golden" / "ranges.json"
DIGITS = REPO / "samples" / "digits"
POT = {"range_estimator": {"preset": "default"}}  # POT's estimators: the range math these references pin down
CASES = {  # name -> (model builder or None for digits, DefaultQuantization params)
    "digits_performance": (None, {"preset": "performance", "stat_subset_size": 300, **POT}),
    "digits_mixed_quantile": (None, {"preset": "mixed", "stat_subset_size": 100,
                                     "range_estimator": {"preset": "quantile"}}),
    "residual": (models.residual, {"preset": "performance", **POT}),
    "concat_branches": (models.concat_branches, {"preset": "mixed", **POT}),
    "attention_transformer": (models.attention, {"preset": "mixed", "model_type": "transformer", **POT}),
}


def quantizer_ranges(name: str, tmp_path) -> dict:
    build, params = CASES[name]
    if build is None:
        import sys
        sys.path.insert(0, str(DIGITS))
        from plugins import ImageLoader  # samples/digits/plugins.py
        loader = ImageLoader(str(DIGITS / "data" / "calib"))
        model = load_model({"model_name": "digits", "model": str(DIGITS / "model" / "digits.xml")})
    else:
        path = tmp_path / f"{name}.xml"
        models.save(build(), path)
        loader = ListLoader(models.random_inputs(build(), 24))
        model = load_model({"model_name": name, "model": str(path)})
    quantized = create_pipeline([{"name": "DefaultQuantization", "params": params}],
                                IEEngine({"device": "CPU"}, loader)).run(model)
    section = next(s for s in quantized.report_sections if s["algorithm"] == "MinMaxQuantization")
    return {q["name"]: {"levels": q["levels"], "input_low": q["input_low"], "input_high": q["input_high"]}
            for q in section["quantizers"]}


@pytest.mark.parametrize("name", sorted(CASES))
def test_ranges_match_the_recorded_reference(name, tmp_path, request):
    ranges = quantizer_ranges(name, tmp_path)
    golden = json.loads(GOLDEN.read_text()) if GOLDEN.exists() else {}
    if request.config.getoption("--regen-golden"):
        golden[name] = ranges
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(json.dumps(golden, indent=1, sort_keys=True) + "\n")
        return
    expected = golden[name]
    assert sorted(ranges) == sorted(expected)
    for quantizer, values in expected.items():
        assert ranges[quantizer]["levels"] == values["levels"], quantizer
        for key in ("input_low", "input_high"):
            np.testing.assert_allclose(ranges[quantizer][key], values[key], rtol=1e-4, atol=1e-6,
                                       err_msg=f"{name}: {quantizer}.{key}")
