"""SmoothQuant: the mechanism (smoothing) and the algorithm (standalone, or inside DefaultQuantization)."""
