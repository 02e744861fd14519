"""FastBiasCorrection and BiasCorrection: how shifts are measured (shifts) and the algorithms (algorithm)."""
