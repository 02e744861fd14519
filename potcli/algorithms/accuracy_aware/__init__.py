"""AccuracyAwareQuantization: the accuracy budget (target), quantizer groups that revert together (groups),
their scoring on the ranking subset (ranker), and the revert loop (algorithm)."""
