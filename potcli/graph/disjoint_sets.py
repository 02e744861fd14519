"""Union-find over hashable keys: which quantizers must share one range, or be reverted together."""


class DisjointSets:
    def __init__(self, keys=()):
        self.parent = {key: key for key in keys}

    def find(self, key):
        self.parent.setdefault(key, key)
        while self.parent[key] != key:
            self.parent[key] = self.parent[self.parent[key]]  # path halving
            key = self.parent[key]
        return key

    def union(self, a, b) -> None:
        """Join the sets of ``a`` and ``b``; the set of ``b`` names the result."""
        self.parent[self.find(a)] = self.find(b)
