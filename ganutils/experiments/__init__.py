"""Experiments that serve one chapter: the seed ports (001, 003), the mode-collapse benchmark, MNIST collapse,
the WGAN critic probes. The library (data, nets, losses, training, metrics) never imports them."""
