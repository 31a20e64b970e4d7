"""The order of mini-batches: which sample indices step `s` of a training run reads.

The samples are read as one endless stream: epoch 0's order of the n indices, then epoch 1's, and
so on; step s takes positions [s*batch_size, (s+1)*batch_size) of that stream. So every batch has
exactly batch_size indices and nothing is dropped: there is no drop_last, instead a batch that
crosses an epoch's end takes the rest of that epoch and the start of the next (and may then hold
one index twice). Every run of n consecutive stream positions that starts at an epoch's start holds
every index exactly once. With shuffle each epoch's order is a permutation from a generator seeded
with (seed, epoch), so epochs reshuffle and the same seed gives the same batches; without shuffle
every epoch is 0, 1, ..., n-1.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor


class BatchOrder:
    def __init__(self, n: int, batch_size: int, shuffle: bool = True, seed: int = 0) -> None:
        if n < 1:
            raise ValueError(f"n: a batch order needs at least one sample, got {n}")
        if not 1 <= batch_size <= n:
            raise ValueError(f"batch_size: must lie in 1..{n} (the samples there are), got {batch_size}")
        if seed < 0:
            raise ValueError(f"seed: must be at least 0, got {seed}")
        self.n, self.batch_size, self.shuffle, self.seed = n, batch_size, shuffle, seed
        # The epoch's order that the last batch read: steps read the same epoch in turn, and its
        # permutation is fixed by (seed, epoch) alone; drawing it anew each step cost ~150 us.
        self._kept: tuple[int, Tensor] | None = None

    @property
    def steps_per_epoch(self) -> float:
        """Steps that read n samples: n / batch_size (a fraction when batch_size does not divide n)."""
        return self.n / self.batch_size

    def epoch_of(self, step: int) -> int:
        """The epoch in which step `step` starts."""
        return step * self.batch_size // self.n

    def epoch_order(self, epoch: int) -> Tensor:
        """The order of the n indices in epoch `epoch`."""
        if not self.shuffle:
            return torch.arange(self.n)
        # SeedSequence mixes (seed, epoch) into one well-spread seed: no two pairs share an order.
        rng = np.random.default_rng([self.seed, epoch])
        return torch.from_numpy(rng.permutation(self.n)).to(torch.int64)

    def indices(self, step: int) -> Tensor:
        """The batch_size sample indices (int64) of step `step`, counted from 0."""
        if step < 0:
            raise ValueError(f"step: counts from 0, got {step}")
        start = step * self.batch_size
        end = start + self.batch_size
        parts = []
        for epoch in range(start // self.n, (end - 1) // self.n + 1):
            lo, hi = max(start, epoch * self.n) - epoch * self.n, min(end, (epoch + 1) * self.n) - epoch * self.n
            parts.append(self._order(epoch)[lo:hi])
        return torch.cat(parts)  # a new tensor: the kept order cannot be written through it

    def _order(self, epoch: int) -> Tensor:
        if self._kept is None or self._kept[0] != epoch:
            self._kept = (epoch, self.epoch_order(epoch))
        return self._kept[1]
