"""The session-wide worker pool, and notebook 02's runs that go through it."""

import pytest
import torch

from ganutils.config import GanutilsError
from ganutils.experiments import first_gan, workers


def test_map_jobs_in_this_process_keeps_the_order():
    assert workers.map_jobs(abs, [-3, 1, -2], workers=1) == [3, 1, 2]
    futures = workers.submit_jobs(abs, [-1, -5], workers=1)
    assert all(f.done() for f in futures) and [f.result() for f in futures] == [1, 5]
    assert not workers._POOLS  # one worker: no process is started


def test_bad_worker_counts_get_one_clear_line():
    for bad in (0, -1, 1.5, "2"):
        with pytest.raises(GanutilsError, match="workers"):
            workers.map_jobs(abs, [1], workers=bad)


@pytest.mark.slow
def test_two_processes_give_the_results_of_one_and_stop_with_the_pool():
    one = workers.map_jobs(abs, [-3, 1, -2, -7], workers=1)
    two = workers.map_jobs(abs, [-3, 1, -2, -7], workers=2)
    futures = workers.submit_jobs(abs, [-4, -6], workers=2)
    assert one == two and [f.result() for f in futures] == [4, 6]
    procs = list(workers._POOLS[2]._processes.values())
    workers.shutdown()
    assert not workers._POOLS and all(not p.is_alive() for p in procs)


@pytest.mark.slow
def test_results_pass_the_kernel_s_helper_threads_as_bytes_and_are_unpickled_by_the_caller():
    """After tensors were rebuilt in concurrent.futures' helper thread, the kernel's own multi-threaded training
    slowed down for good (measured: bench/bench_shared_cores.py, workers.JobFuture)."""
    (future,) = workers.submit_jobs(abs, [torch.tensor([-1.5, 2.0])], workers=2)
    assert isinstance(future.future.result(), bytes)
    assert torch.equal(future.result(), torch.tensor([1.5, 2.0])) and future.result() is future.result()
    assert [t.tolist() for t in workers.imap_jobs(abs, [torch.tensor([-1.0]), torch.tensor([3.0])], workers=2)] == [[1.0], [3.0]]
    workers.shutdown()


def _images(n: int, seed: int) -> torch.Tensor:
    return torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def test_an_ablation_run_is_the_notebook_s_dcgan_with_one_change_and_repeats_exactly(tmp_path):
    job = dict(name="relu", change={"d_act": "relu", "real_label": 0.9}, images=_images(64, 0), held_out=_images(40, 1),
               z_dim=8, width=4, lr=2e-4, batch_size=8, seed=3, steps=2, n_eval=40, checkpoint=tmp_path / "a.pt")
    first = first_gan.train_ablation(job)
    again = first_gan.train_ablation(dict(job, checkpoint=tmp_path / "b.pt"))
    assert first["fd"] == again["fd"] and first["n_fake"] == 40 and (tmp_path / "a.pt").exists()
    resumed = first_gan.train_ablation(job)  # the checkpoint holds all steps: loaded, not trained again
    assert resumed["fd"] == first["fd"] and resumed["seconds"] <= first["seconds"] + 1
    sigmoid = first_gan.train_ablation(dict(job, change={"out_act": "sigmoid"}, checkpoint=None))
    assert sigmoid["n_fake"] == 40 and sigmoid["fd"] != first["fd"]


def test_a_seed001_run_returns_its_scores_and_samples():
    job = dict(name="as written", fixes={}, images=(_images(32, 0) + 1) / 2, held_out=_images(40, 1), seed=0, steps=2,
               batch_size=8, n_eval=40)
    r = first_gan.train_seed001(job)
    assert r["samples"].shape == (16, 1, 28, 28) and 0 <= r["samples"].min() and r["samples"].max() <= 1
    assert 0.5 <= r["d_of_fake"] <= 0.75  # the doubled sigmoid: D's probabilities live in (0.5, 0.73)


_PAGE_FAULTS = """
import resource, sys, torch
from ganutils import data
from ganutils.experiments import toy_benchmark, workers
from ganutils.training.vectorised import VectorisedGAN
torch.set_num_threads(1)
if sys.argv[1] == "keep":
    workers.keep_freed_memory()
batch = VectorisedGAN([toy_benchmark.build("unrolled", seed=s) for s in range(3)])  # notebook 03's costliest batch
samplers = [data.DistributionSampler(data.ring(), 256, seed=s) for s in range(3)]
for _ in range(3):
    batch.step(samplers)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(5):
    batch.step(samplers)
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 5)
"""


def test_a_worker_reuses_freed_memory_instead_of_faulting_it_in_again():
    import subprocess
    import sys

    faults = {mode: float(subprocess.run([sys.executable, "-c", _PAGE_FAULTS, mode], capture_output=True, text=True,
                                       check=True).stdout) for mode in ("default", "keep")}
    # page faults per training step: by default glibc hands the step's freed activations back to the system and
    # faults them in again on the next step (~4,600 here); kept, the pages are reused (~70)
    assert faults["keep"] * 10 < faults["default"], faults
