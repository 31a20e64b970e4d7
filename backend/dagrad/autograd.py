"""What autograd holds, read without changing it: which node made which autograd node, and the
tensors each autograd node saved for backward, still there or not.

`Makers` is noted as each value is made, by the interpreter on real tensors and by the compiler's
backward rehearsal on meta ones; a later in-place op replaces a tensor's grad_fn, so it cannot be
read afterwards. Their backward errors are located with it: which node made the value an
in-place op overwrote, and which nodes' ops saved the tensors a backward freed.
"""

from __future__ import annotations

import re
from typing import Any, Literal

import torch

from dagrad.errors import GraphError

SAVED = "_saved_"
SavedState = Literal["kept", "freed", "overwritten"]


def saved_state(fn: Any, field: str) -> SavedState | None:
    """What became of fn's saved field: kept, freed (a backward without retain_graph), overwritten
    (by an in-place op since); None for a field that holds no tensor (a size, a scalar, None)."""
    try:
        value = getattr(fn, field)
    except RuntimeError as exc:
        return "overwritten" if "inplace operation" in str(exc) else "freed"
    if isinstance(value, torch.Tensor):
        return "kept"
    if isinstance(value, tuple | list) and any(isinstance(v, torch.Tensor) for v in value):
        return "kept"
    return None


def saved_fields(fn: Any) -> list[str]:
    """fn's `_saved_*` fields, in dir() order."""
    return [name for name in dir(fn) if name.startswith(SAVED)]


def creator_names(value: torch.Tensor) -> set[str]:
    """The names autograd's messages give the op that made `value` ('ExpBackward0' and 'Exp')."""
    if value.grad_fn is None:
        return set()
    name = type(value.grad_fn).__name__
    return {name, re.sub(r"Backward\d*$", "", name)}


class Makers:
    def __init__(self) -> None:
        self.by_fn: dict[int, tuple[Any, str]] = {}  # id(grad_fn) -> (grad_fn, the node that made it)
        self.by_name: dict[str, list[str]] = {}  # creator name -> nodes, as autograd's messages name them

    def note(self, nid: str, value: torch.Tensor) -> None:
        if value.grad_fn is None:
            return
        self.by_fn[id(value.grad_fn)] = (value.grad_fn, nid)  # the object held: its id stays its own
        for name in creator_names(value):
            self.by_name.setdefault(name, []).append(nid)

    def overwritten(self, message: str) -> list[str]:
        """The nodes that could have made the value a backward error says was overwritten in place
        ("... output 0 of ExpBackward0 ...")."""
        named = re.search(r"output \d+ of (\w+)", message)
        return self.by_name.get(named.group(1), []) if named else []

    def freed(self, root: Any) -> dict[str, list[str]]:
        """The nodes whose autograd nodes, reached from `root`, had their saved tensors freed, each
        with those autograd nodes and fields ("TanhBackward0 (result)"). An autograd node that no
        value has as its grad_fn (linear's TBackward0) belongs to the one it was reached from."""
        found: dict[str, list[str]] = {}
        seen: set[int] = set()
        stack: list[tuple[Any, str | None]] = [(root, None)]
        while stack:
            fn, via = stack.pop()
            if fn is None or id(fn) in seen:
                continue
            seen.add(id(fn))
            made = self.by_fn.get(id(fn))
            owner = made[1] if made is not None else via
            fields = [f[len(SAVED) :] for f in saved_fields(fn) if saved_state(fn, f) == "freed"]
            if fields and owner is not None:
                found.setdefault(owner, []).append(f"{type(fn).__name__} ({', '.join(fields)})")
            stack.extend((nxt, owner) for nxt, _ in reversed(fn.next_functions))
        return found


def freed_errors(makers: Makers, root: Any, index: int, output: str) -> list[GraphError]:
    """Backward pass `index` (from 0) failed because an earlier pass freed the graph (frees_graph):
    the errors that say so, on run.output and on every node whose op saved what was freed."""
    return [
        GraphError(
            node=output,
            code="runtime",
            message=f"backward pass {index + 1} failed: pass {index} freed the tensors autograd saved for "
            "backward, as PyTorch's backward() does unless retain_graph=True. Turn retain_graph on in the "
            "run settings to keep them between passes, or run one pass.",
        ),
        *(
            GraphError(
                node=nid,
                code="runtime",
                message=f"pass {index + 1} needs what {' and '.join(what)} saved for backward, which pass "
                f"{index} freed: turn retain_graph on to keep it.",
            )
            for nid, what in makers.freed(root).items()
        ),
    ]


def frees_graph(message: str) -> bool:
    """Whether a backward error says the graph was freed by an earlier backward."""
    return "backward through the graph a second time" in message
