import math

import numpy as np
import pytest
import torch

from ganutils.config import GanutilsError
from ganutils.data import grid, ring
from ganutils.metrics.toy import (
    PROTOCOL_SAMPLES,
    format_summary,
    kl_to_uniform,
    summarize_runs,
    toy_metrics,
)

# Fraction of an isotropic 2-D Gaussian within 3 sigma of its mean: 1 - exp(-9/2).
WITHIN_3_SIGMA = 100 * (1 - math.exp(-4.5))


def on_one_mode(mixture, mode: int, n: int = PROTOCOL_SAMPLES, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return mixture.centers[mode] + mixture.std * torch.randn(n, 2, generator=g)


@pytest.mark.parametrize("make", [ring, grid])
def test_real_samples_cover_every_mode_with_near_zero_kl(make):
    mix = make()
    m = toy_metrics(mix.sample(PROTOCOL_SAMPLES, torch.Generator().manual_seed(1)), mix)
    assert m.modes_covered == m.n_modes == len(mix.centers)
    assert abs(m.pct_high_quality - WITHIN_3_SIGMA) < 1.0
    # multinomial noise alone gives KL ~ (K - 1) / (2 N_hq): 0.0014 (ring), 0.005 (grid)
    assert m.reverse_kl < 0.02
    assert sum(m.mode_counts) == m.n_high_quality


@pytest.mark.parametrize("make", [ring, grid])
def test_samples_on_one_mode_cover_one_mode_with_kl_log_k(make):
    mix = make()
    m = toy_metrics(on_one_mode(mix, mode=3), mix)
    assert m.modes_covered == 1
    assert m.mode_counts[3] == m.n_high_quality > 0.95 * PROTOCOL_SAMPLES
    assert m.reverse_kl == pytest.approx(math.log(mix.n_modes), abs=1e-12)


def test_half_on_each_of_two_modes_gives_kl_log_k_over_2():
    mix = ring()
    samples = torch.cat([on_one_mode(mix, 0, 1000), on_one_mode(mix, 5, 1000, seed=1)])
    m = toy_metrics(samples, mix)
    assert m.modes_covered == 2
    # the two bins are not exactly equal (3-sigma misses differ), so KL is close to, not equal to, log 4
    assert m.reverse_kl == pytest.approx(math.log(8 / 2), abs=0.01)


@pytest.mark.parametrize("make, half_width, max_pct", [(ring, 3.0, 2.0), (grid, 5.0, 5.0)])
def test_uniform_noise_over_the_plane_is_rarely_high_quality(make, half_width, max_pct):
    mix = make()
    g = torch.Generator().manual_seed(0)
    noise = (torch.rand(PROTOCOL_SAMPLES, 2, generator=g) * 2 - 1) * half_width
    m = toy_metrics(noise, mix)
    # expected: n_modes * pi (3 sigma)^2 / area = 0.25% (ring), 1.8% (grid)
    assert m.pct_high_quality < max_pct


def test_samples_just_outside_three_sigma_are_not_high_quality():
    mix = ring()
    c = mix.centers[0].double()
    inside = c + torch.tensor([2.99 * mix.std, 0.0], dtype=torch.float64)
    outside = c + torch.tensor([0.0, 3.01 * mix.std], dtype=torch.float64)
    m = toy_metrics(torch.stack([inside, outside]), mix)
    assert (m.n_high_quality, m.modes_covered, m.pct_high_quality) == (1, 1, 50.0)


def test_min_count_raises_the_bar_for_coverage():
    mix = grid()
    samples = torch.cat([mix.centers[[0]].repeat(5, 1), mix.centers[[1, 2]]])  # 5 on mode 0, 1 on modes 1 and 2
    assert toy_metrics(samples, mix).modes_covered == 3
    assert toy_metrics(samples, mix, min_count=2).modes_covered == 1
    assert toy_metrics(samples, mix, min_count=6).modes_covered == 0


def test_no_high_quality_sample_gives_documented_kl_and_zero_coverage():
    mix = ring()
    far = torch.full((100, 2), 50.0)
    m = toy_metrics(far, mix)
    assert (m.modes_covered, m.n_high_quality, m.pct_high_quality) == (0, 0, 0.0)
    assert m.reverse_kl == pytest.approx(math.log(8))


def test_non_finite_samples_count_as_low_quality():
    mix = ring()
    samples = torch.cat([mix.centers, torch.full((8, 2), float("nan")), torch.full((4, 2), float("inf"))])
    m = toy_metrics(samples, mix)
    assert m.modes_covered == 8
    assert m.n_high_quality == 8
    assert m.pct_high_quality == pytest.approx(100 * 8 / 20)


def test_numpy_input_matches_tensor_input():
    mix = grid()
    x = mix.sample(500, torch.Generator().manual_seed(3))
    assert toy_metrics(x.numpy(), mix) == toy_metrics(x, mix)


@pytest.mark.parametrize("bad", [torch.zeros(10, 3), torch.zeros(10), torch.zeros(0, 2), [["a", "b"]]])
def test_bad_samples_raise_a_clear_error(bad):
    with pytest.raises(GanutilsError, match="toy samples"):
        toy_metrics(bad, ring())


def test_bad_mixture_and_min_count_raise():
    with pytest.raises(GanutilsError, match="GaussianMixture2D"):
        toy_metrics(torch.zeros(5, 2), object())
    with pytest.raises(GanutilsError, match="min_count"):
        toy_metrics(torch.zeros(5, 2), ring(), min_count=0)


def test_kl_to_uniform_closed_forms():
    assert kl_to_uniform([5, 5, 5, 5]) == 0.0
    assert kl_to_uniform([0, 9, 0, 0]) == pytest.approx(math.log(4))
    q = np.array([0.5, 0.25, 0.25, 0.0])
    assert kl_to_uniform([2, 1, 1, 0]) == pytest.approx(float((q[:3] * np.log(q[:3] * 4)).sum()))
    assert kl_to_uniform([0, 0, 0]) == pytest.approx(math.log(3))


def test_summarize_runs_mean_and_sample_std():
    mix = ring()
    runs = [toy_metrics(on_one_mode(mix, 0, 100), mix), toy_metrics(mix.sample(2500, torch.Generator().manual_seed(0)), mix)]
    s = summarize_runs(runs)
    assert s["n_runs"] == 2
    assert s["modes_covered"][0] == pytest.approx(4.5)
    assert s["modes_covered"][1] == pytest.approx(np.std([1, 8], ddof=1))
    assert s["n_modes"] == (8.0, 0.0)
    assert "mode_counts" not in s
    line = format_summary(s, ["modes_covered", "reverse_kl"])
    assert line.startswith("modes_covered 4.50 ± 4.95, reverse_kl ") and line.endswith("(2 runs)")


def test_summarize_runs_accepts_dicts_and_single_runs():
    s = summarize_runs([{"fd": 3.0, "name": "x"}])
    assert s == {"n_runs": 1, "fd": (3.0, 0.0)}
    with pytest.raises(GanutilsError):
        summarize_runs([])
    with pytest.raises(GanutilsError, match="no field"):
        format_summary(s, ["precision"])
