"""ActivationChannelAlignment: the mechanism (alignment) and the algorithm POT configs name."""
