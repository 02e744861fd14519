"""Running models on the OpenVINO runtime: compile settings and the ring of infer requests, the one-pass
statistics collector, batched per-sample work, evaluation with the user's Metric, and what the CPU plugin
really executes and how fast."""
