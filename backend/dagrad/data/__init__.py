"""Dataset sources for training a graph: seeded sets of samples and the order of their mini-batches.

Pure functions on CPU tensors: `load(DataSpec)` gives the same `Dataset` for the same spec, and
`BatchOrder` the same batches for the same seed. Nothing here reads the global random state.
"""

from dagrad.data.batches import BatchOrder
from dagrad.data.sets import Dataset, load
from dagrad.data.spec import DATA_NAMES, MAX_SAMPLES, DataSpec

__all__ = ["DATA_NAMES", "MAX_SAMPLES", "BatchOrder", "DataSpec", "Dataset", "load"]
