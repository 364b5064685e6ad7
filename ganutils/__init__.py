"""ganutils: the tested code behind the GAN course notebooks.

    import ganutils as gu
    cfg = gu.setup(profile, device, seed)      # profile, device and seeds in one line
    gu.record("dcgan/fd", fd)                  # publish a metric for the course runner
    gu.interview.checkpoint("02_first_gan_mnist")

The library: ``ganutils.data``, ``nets``, ``losses``, ``training``, ``metrics``, ``plotting``, ``latent``.
Chapter experiments: ``ganutils.experiments``. Course machinery: ``ganutils.course``.
"""

from .config import GanutilsError, resolve_device, seed_everything
from .course.profiles import checkpoint_path, resolve_profile, run_dir, setup
from .course.record import record

__version__ = "0.1.0"
__all__ = ["GanutilsError", "checkpoint_path", "interview", "record", "resolve_device", "resolve_profile", "run_dir",
           "seed_everything", "setup"]


def __getattr__(name):
    """``gu.interview`` is imported on first use: it reads the question bank, which the library never needs."""
    if name == "interview":
        from .course import interview

        return interview
    raise AttributeError(f"module 'ganutils' has no attribute {name!r}")
