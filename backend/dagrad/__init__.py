"""dagrad: a visual DAG builder and autograd explorer backed by PyTorch."""

__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    """dagrad.train(graph, settings=None, on_step=None): the engine's, imported when first asked
    for (import dagrad alone does not import PyTorch)."""
    if name == "train":
        from dagrad.engine import train

        return train
    raise AttributeError(f"module 'dagrad' has no attribute {name!r}")
