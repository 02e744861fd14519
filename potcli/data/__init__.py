"""The user's side: POT's DataLoader / Metric contracts, loading them by dotted path, turning their items into
model inputs, and calling the Metric with every answer checked."""
