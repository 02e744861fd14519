"""A Metric that misbehaves: one clear line, exit 1, nothing written."""
import pytest

from .conftest import assert_one_clean_error

CASES = [("nan", "Metric.avg_value['score'] is nan, not a finite number"),
         ("text", "Metric.avg_value['score'] is 'high', not a number"),
         ("raises", "Metric.avg_value raised ZeroDivisionError: no samples"),
         ("direction", "metric 'score' has direction 'lower-better'; expected 'higher-better' or 'higher-worse'")]


@pytest.mark.parametrize("mode,message", CASES, ids=[c[0] for c in CASES])
def test_bad_metric_during_accuracy_aware_quantization(run_cli, make_config, tmp_path, mode, message):
    config = make_config(metric=mode, algorithm="AccuracyAwareQuantization")
    result = run_cli("run", config, "-o", tmp_path / "out", "--log-level", "error")
    assert_one_clean_error(result, 1, message)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("mode,message", CASES[:3], ids=[c[0] for c in CASES[:3]])
def test_bad_metric_in_potq_eval(run_cli, make_config, mode, message):
    result = run_cli("eval", make_config(metric=mode), "--log-level", "error")
    assert_one_clean_error(result, 1, message)
