"""Cutting a pass into shards for the workers, and taking shard results back in sample order.

A shard is a run of consecutive items (samples, or statistics batches). Shards start on multiples of
``align``: the number of samples the local run puts into one batched inference, so every inference on a
worker holds exactly the samples it holds in a local run, and gives the same numbers.
"""
from collections.abc import Callable

SHARDS_PER_WORKER = 4  # a slow or lost worker holds back a quarter of its share, not all of it


def shard_ranges(count: int, workers: int, align: int = 1) -> list[range]:
    """``range(count)`` cut into about ``SHARDS_PER_WORKER * workers`` consecutive ranges, each starting on a
    multiple of ``align`` (the last may be shorter)."""
    if count <= 0:
        return []
    wanted = max(1, workers * SHARDS_PER_WORKER)
    size = max(align, -(-count // wanted // align) * align)
    return [range(start, min(start + size, count)) for start in range(0, count, size)]


class InOrder:
    """Shard results as they arrive, handed to ``consume`` in shard order: a shard waits until every earlier
    one has been consumed."""

    def __init__(self, consume: Callable[[object], None]):
        self.consume = consume
        self.waiting: dict[int, object] = {}
        self.next = 0

    def add(self, position: int, result) -> None:
        self.waiting[position] = result
        while self.next in self.waiting:
            self.consume(self.waiting.pop(self.next))
            self.next += 1
