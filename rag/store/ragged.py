"""Positions in flat arrays that hold one run per row (CSR style: row i is a[start[i]:start[i + 1]])."""

from __future__ import annotations

import numpy as np


def run_positions(first: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The positions of the runs that begin at `first` and are `lengths` long, one run after
    another: run_positions([5, 0], [2, 3]) -> [5, 6, 0, 1, 2]. Array operations, no loop per run."""
    first = np.asarray(first, dtype=np.int64)
    lengths = np.asarray(lengths, dtype=np.int64)
    run_start = np.cumsum(lengths) - lengths  # where each run begins in the output
    return np.arange(int(lengths.sum()), dtype=np.int64) + np.repeat(first - run_start, lengths)
