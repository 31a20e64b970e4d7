"""The op registry, with every op category registered on import."""

from dagrad.ops import (  # noqa: F401  (importing a category module registers its ops)
    activations,
    arithmetic,
    autograd,
    layers,
    losses,
    norms,
    reductions,
    shape,
    sources,
)
from dagrad.ops.registry import REGISTRY, OpDef, Port

__all__ = ["REGISTRY", "OpDef", "Port"]
