import pytest
import torch

from ganutils.config import GanutilsError
from ganutils.metrics.nearest_neighbour import MEMORISED_MSE, memorised_fraction, nearest_mse


@pytest.fixture(scope="module")
def reference():
    return torch.rand(50, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1


def test_nearest_mse_finds_copies_and_the_right_neighbour(reference):
    idx = torch.tensor([7, 3, 49, 0])
    mse, found = nearest_mse(reference[idx], reference)
    assert torch.equal(found, idx) and mse.max().item() == pytest.approx(0.0, abs=1e-12)
    shifted = reference[idx] + 0.1  # every pixel off by 0.1: MSE 0.01 to its source, far more to any other
    mse, found = nearest_mse(shifted, reference)
    assert torch.equal(found, idx) and torch.allclose(mse, torch.full((4,), 0.01, dtype=torch.float64))


def test_chunking_does_not_change_the_result(reference):
    queries = torch.rand(37, 1, 28, 28, generator=torch.Generator().manual_seed(1)) * 2 - 1
    a, ia = nearest_mse(queries, reference)
    b, ib = nearest_mse(queries, reference, chunk=5)
    assert torch.equal(ia, ib) and torch.allclose(a, b)


def test_memorised_fraction_counts_copies_only(reference):
    noise = torch.rand(30, 1, 28, 28, generator=torch.Generator().manual_seed(2)) * 2 - 1
    copies = reference[:10] + 0.01  # MSE 1e-4: below the threshold
    assert memorised_fraction(copies, reference) == 1.0
    assert memorised_fraction(noise, reference) == 0.0
    assert memorised_fraction(torch.cat([copies, noise[:10]]), reference) == 0.5
    assert memorised_fraction(reference[:4] + 0.1, reference, threshold=0.011) == 1.0 > MEMORISED_MSE


@pytest.mark.parametrize("samples, reference, message", [
    (torch.zeros(3, 784, dtype=torch.uint8), torch.zeros(3, 784), "dtype torch.uint8"),
    (torch.zeros(3, 784), torch.zeros(3, 100), "784 pixels per image and reference images 100"),
    (torch.full((2, 4), float("nan")), torch.zeros(2, 4), "NaN or inf"),
    (torch.zeros(0, 4), torch.zeros(2, 4), "non-empty batch"),
    (torch.zeros(4), torch.zeros(2, 4), "non-empty batch"),
])
def test_bad_inputs_are_named(samples, reference, message):
    with pytest.raises(GanutilsError, match=message):
        nearest_mse(samples, reference)


def test_a_negative_threshold_is_refused(reference):
    with pytest.raises(GanutilsError, match="threshold must be a pixel MSE >= 0"):
        memorised_fraction(reference, reference, threshold=-1)
