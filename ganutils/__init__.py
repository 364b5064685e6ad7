"""ganutils: the tested code behind the GAN course notebooks.

    import ganutils as gu
    cfg = gu.setup(profile, device, seed)      # profile, device and seeds in one line
    gu.record("dcgan/fd", fd)                  # publish a metric for the course runner
    gu.interview.checkpoint("02_first_gan_mnist")
"""

from . import interview
from .config import GanutilsError, checkpoint_path, resolve_device, resolve_profile, run_dir, seed_everything, setup
from .record import record

__version__ = "0.1.0"
__all__ = ["GanutilsError", "checkpoint_path", "interview", "record", "resolve_device", "resolve_profile", "run_dir",
           "seed_everything", "setup"]
