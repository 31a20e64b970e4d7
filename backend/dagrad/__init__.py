"""dagrad: a visual DAG builder and autograd explorer backed by PyTorch."""

__version__ = "0.1.0"
