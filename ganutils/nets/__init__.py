"""The networks of the course, one file per family: MLPs, DCGAN, critics, conditional nets, U-Net, PatchGAN, VAE nets."""

from .conditional import (
                          ConditionalDCGANDiscriminator,
                          ConditionalDCGANGenerator,
                          ConditionalMLPDiscriminator,
                          ConditionalMLPGenerator,
                          make_conditional,
)
from .critics import MLPCritic
from .dcgan import DCGANDiscriminator, DCGANGenerator, init_dcgan_weights
from .minibatch_stddev import MinibatchStdDev, MinibatchStdDevDiscriminator
from .mlp import MLPDiscriminator, MLPGenerator, activation, mlp, toy_nets
from .pacgan import PackedDiscriminator, pac_discriminator
from .patchgan import PatchDiscriminator
from .unet import UNetGenerator, unet_depth
from .utils import count_parameters, eval_mode, has_batchnorm, unchanged

__all__ = ["ConditionalDCGANDiscriminator", "ConditionalDCGANGenerator", "ConditionalMLPDiscriminator",
           "ConditionalMLPGenerator", "DCGANDiscriminator", "DCGANGenerator", "MLPCritic", "MLPDiscriminator",
           "MLPGenerator", "MinibatchStdDev", "MinibatchStdDevDiscriminator", "PackedDiscriminator", "PatchDiscriminator",
           "UNetGenerator", "activation", "count_parameters", "eval_mode", "has_batchnorm", "init_dcgan_weights",
           "make_conditional", "mlp", "pac_discriminator", "toy_nets", "unchanged", "unet_depth"]
