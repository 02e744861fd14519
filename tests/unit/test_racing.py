"""Successive halving over candidates with known per-sample gains: who wins, what it costs, ties and noise."""
import numpy as np
import pytest

from potcli.algorithms.accuracy_aware import racing
from potcli.algorithms.accuracy_aware.racing import BASE, race

TOTAL = 256


class Scores:
    """Per-sample scores of the base (``base``) and of each candidate (base + its own gains); counts what the
    race measures."""

    def __init__(self, gains: dict, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.values = {BASE: rng.uniform(0.2, 0.8, TOTAL)}  # how hard each sample is, shared by all
        self.values.update({name: self.values[BASE] + gain for name, gain in gains.items()})
        self.inferences = 0
        self.rounds: list[tuple[list, range]] = []

    def __call__(self, candidates, positions):
        self.rounds.append((list(candidates), positions))
        self.inferences += len(candidates) * len(positions)
        return [self.values[c][positions.start:positions.stop] for c in candidates]


def noisy(rng, mean, spread=0.02):
    return mean + rng.normal(0, spread, TOTAL)


def test_a_clear_winner_is_found_on_the_first_samples_for_a_fraction_of_a_full_ranking():
    rng = np.random.default_rng(1)
    gains = {f"g{i}": noisy(rng, 0.0) for i in range(40)} | {"culprit": noisy(rng, 0.3)}
    scores = Scores(gains)
    ranked = race(list(gains), TOTAL, scores)
    assert ranked[0].candidate == "culprit" and ranked[0].gain == pytest.approx(0.3, abs=0.02)
    assert scores.inferences == 42 * racing.FIRST_ROUND  # one round: the leader is clear at once
    assert scores.inferences < (len(gains) + 1) * TOTAL / 20


def test_close_leaders_get_wider_subsets_and_the_rest_stays_on_few_samples():
    rng = np.random.default_rng(2)
    gains = {f"g{i}": noisy(rng, 0.0, 0.05) for i in range(20)} | {"a": noisy(rng, 0.10, 0.05),
                                                                     "b": noisy(rng, 0.115, 0.05)}
    scores = Scores(gains)
    ranked = race(list(gains), TOTAL, scores)
    by_name = {standing.candidate: standing for standing in ranked}
    assert [s.candidate for s in ranked[:2]] == ["b", "a"]
    assert by_name["b"].samples == by_name["a"].samples > 4 * racing.FIRST_ROUND  # the close call was widened ...
    assert max(by_name[f"g{i}"].samples for i in range(20)) < by_name["b"].samples  # ... and only there
    assert scores.inferences < (len(gains) + 1) * TOTAL / 4


def test_candidates_tied_with_the_leader_end_the_race_once_settled():
    gains = {name: np.full(TOTAL, 0.1) for name in ("x", "y", "z")} | {"worse": np.full(TOTAL, -0.1)}
    scores = Scores(gains)
    ranked = race(list(gains), TOTAL, scores)
    assert [s.candidate for s in ranked] == ["x", "y", "z", "worse"]  # exact ties keep the given order
    assert ranked[0].samples == racing.SETTLED and ranked[-1].samples == racing.FIRST_ROUND


def test_the_base_is_measured_on_every_sample_any_candidate_was():
    rng = np.random.default_rng(3)
    gains = {f"g{i}": noisy(rng, 0.01 * i, 0.05) for i in range(10)}
    scores = Scores(gains)
    ranked = race(list(gains), TOTAL, scores)
    base_samples = sum(len(positions) for candidates, positions in scores.rounds if candidates[0] is BASE)
    assert all(candidates[0] is BASE for candidates, _ in scores.rounds)
    assert base_samples == max(s.samples for s in ranked)
    assert [positions.start for _, positions in scores.rounds] == \
        [0] + [positions.stop for _, positions in scores.rounds[:-1]]  # new samples only, never twice


def test_a_subset_smaller_than_the_first_round_is_one_round():
    gains = {"a": np.full(TOTAL, 0.1), "b": np.full(TOTAL, 0.2)}
    scores = Scores(gains)
    ranked = race(list(gains), 5, scores)
    assert [s.candidate for s in ranked] == ["b", "a"] and ranked[0].samples == 5
    assert len(scores.rounds) == 1


def test_survivors_are_the_better_half_and_those_tied_with_the_leader():
    gains = {"best": np.array([0.5, 0.6, 0.4, 0.5]), "close": np.array([0.6, 0.4, 0.5, 0.45]),
             "far": np.array([0.0, 0.1, 0.0, 0.05]), "farther": np.array([-0.1, 0.0, 0.0, 0.0])}
    assert racing.survivors(list(gains), gains) == ["best", "close"]
    gains["far"] = gains["close"].copy()  # now tied with the leader as well
    assert racing.survivors(list(gains), gains) == ["best", "close", "far"]


class Way:
    def __init__(self, name, compile_seconds, sample_seconds, compiled_already):
        from potcli.algorithms.accuracy_aware.candidates import Speed
        self.name, self.speed, self.compiled_already = name, Speed(compile_seconds, sample_seconds), compiled_already

    def compiles_needed(self, candidates):
        return 0 if self.compiled_already else len(candidates)


@pytest.mark.parametrize("candidates,samples,cheaper", [(40, 8, "switchable"), (3, 128, "compiled"),
                                                        (10, 32, "switchable"), (4, 256, "compiled")])
def test_each_round_goes_to_the_way_that_measures_it_in_fewer_seconds(candidates, samples, cheaper):
    from potcli.algorithms.accuracy_aware.ranker import Ranker
    # compiling a candidate takes 0.5 s; the switchable model runs an FP32 copy beside the INT8 one (+5 ms)
    ways = [Way("switchable", 0.8, 0.010, True), Way("compiled", 0.5, 0.005, False)]
    assert Ranker._cheaper(ways, list(range(candidates)), samples).name == cheaper
    unknown = [Way("switchable", None, None, True), ways[1]]
    assert Ranker._cheaper(unknown, list(range(candidates)), samples).name == "compiled"  # only known speeds
