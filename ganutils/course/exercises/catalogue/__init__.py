"""Every exercise of the course, one module per notebook (named after it); importing this registers them all."""

from . import (conditional_gan, evaluation, first_gan_mnist, minmax_and_js, mode_collapse, pix2pix, vae,  # noqa: F401
               wgan_gp)
