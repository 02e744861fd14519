"""Statistics and range math, pure numpy (no OpenVINO): streaming reducers and aggregators, and FakeQuantize
ranges from statistics. engine/collector.py runs the model to feed them."""
