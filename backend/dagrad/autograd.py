"""What autograd holds, read without changing it: which node made which autograd node, and the
tensors each autograd node saved for backward, still there or not.

`Makers` is noted as each value is made, by the interpreter on real tensors and by the compiler's
backward rehearsal on meta ones; a later in-place op replaces a tensor's grad_fn, so it cannot be
read afterwards. Their backward errors are located with it: which node made the value an
in-place op overwrote, and which nodes' ops saved the tensors a backward freed.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Any, Literal

import torch

from dagrad.errors import GraphError
from dagrad.ops.registry import mutates

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


def saved_fields(fn: Any) -> tuple[str, ...]:
    """fn's `_saved_*` fields, in dir() order."""
    return _fields_of(fn.__class__)


@functools.cache
def _fields_of(kind: Any) -> tuple[str, ...]:
    # The fields are properties of the autograd node's class, generated with PyTorch and fixed;
    # dir() of one costs about 7 us, and a run of a small net would call it once per node.
    return tuple(name for name in dir(kind) if name.startswith(SAVED))


class Makers:
    def __init__(self) -> None:
        # (grad_fn, the node whose value it was) as each value was made. The grad_fn object is held,
        # so its id stays its own. Only errors read it: the maps below are made when one asks.
        self.made: list[tuple[Any, str]] = []

    def note(self, nid: str, value: torch.Tensor) -> None:
        if value.grad_fn is not None:
            self.made.append((value.grad_fn, nid))

    @property
    def by_fn(self) -> dict[int, tuple[Any, str]]:
        """id(grad_fn) -> (grad_fn, the node that made it; the last, if several values share it)."""
        return {id(fn): (fn, nid) for fn, nid in self.made}

    @property
    def by_name(self) -> dict[str, list[str]]:
        """creator name ('ExpBackward0' and 'Exp') -> nodes, as autograd's messages name them."""
        out: dict[str, list[str]] = {}
        for fn, nid in self.made:
            name = type(fn).__name__
            for key in dict.fromkeys((name, re.sub(r"Backward\d*$", "", name))):
                out.setdefault(key, []).append(nid)
        return out

    def overwritten(self, message: str) -> list[str]:
        """The nodes that could have made the value a backward error says was overwritten in place
        ("... output 0 of ExpBackward0 ...")."""
        named = re.search(r"output \d+ of (\w+)", message)
        return self.by_name.get(named.group(1), []) if named else []

    def saving(self, root: Any, state: SavedState) -> dict[str, list[tuple[str, list[str]]]]:
        """The nodes whose autograd nodes, reached from `root`, have saved tensors in `state`, each
        with those autograd nodes and fields (("TanhBackward0", ["result"])). An autograd node that
        no value has as its grad_fn (linear's TBackward0) belongs to the one it was reached from."""
        found: dict[str, list[tuple[str, list[str]]]] = {}
        seen: set[int] = set()
        by_fn = self.by_fn
        stack: list[tuple[Any, str | None]] = [(root, None)]
        while stack:
            fn, via = stack.pop()
            if fn is None or id(fn) in seen:
                continue
            seen.add(id(fn))
            made = by_fn.get(id(fn))
            owner = made[1] if made is not None else via
            fields = [f[len(SAVED) :] for f in saved_fields(fn) if saved_state(fn, f) == state]
            if fields and owner is not None:
                found.setdefault(owner, []).append((type(fn).__name__, fields))
            stack.extend((nxt, owner) for nxt, _ in reversed(fn.next_functions))
        return found


def _saved_text(what: list[tuple[str, list[str]]]) -> str:
    """[("TanhBackward0", ["result"]), ...] as "TanhBackward0 (result) and ..."."""
    return " and ".join(f"{name} ({', '.join(fields)})" for name, fields in what)


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
                message=f"pass {index + 1} needs what {_saved_text(what)} saved for backward, which pass "
                f"{index} freed: turn retain_graph on to keep it.",
                autograd=[name for name, _ in what],
            )
            for nid, what in makers.saving(root, "freed").items()
        ),
    ]


def overwrites(message: str) -> bool:
    """Whether a backward error says a saved value was overwritten in place."""
    return "modified by an inplace operation" in message


def frees_graph(message: str) -> bool:
    """Whether a backward error says the graph was freed by an earlier backward."""
    return "backward through the graph a second time" in message


_OVERWRITTEN = re.compile(r"is at version (\d+); expected version (\d+)")


def overwrite_errors(
    makers: Makers, root: Any, message: str, writers: dict[str, list[str]], output: str
) -> list[GraphError]:
    """A backward that needed a value an in-place op overwrote since it was saved, in plain words:
    on the node that made the value and on the in-place node that wrote into it (`writers`: node ->
    the in-place nodes that write into its value), with the autograd node that saved it and the
    versions; PyTorch's own hint about anomaly detection left out."""
    # The nodes whose op autograd names as having made the value; of several of one op, those an
    # in-place node writes into (two sigmoids, one overwritten: the error is on that one).
    named = makers.overwritten(message)
    made = [nid for nid in named if nid in writers] or named
    versions = _OVERWRITTEN.search(message)
    found, expected = versions.groups() if versions else ("?", "?")
    savers = makers.saving(root, "overwritten")
    saved = "; ".join(f"{_saved_text(what)} of {nid}" for nid, what in savers.items()) or "an autograd node"
    errors: list[GraphError] = []
    for nid in made:
        by = writers.get(nid, [])
        written = f"by {', '.join(by)}" if by else "by an in-place op"
        errors.append(
            GraphError(
                node=nid,
                code="runtime",
                message=f"backward needs this node's value as {saved} saved it (version {expected}), but it was "
                f"overwritten in place {written} (now version {found}). Turn inplace off on "
                f"{', '.join(by) or 'that op'}.",
                autograd=[name for name, _ in savers.get(nid, [])] or None,
            )
        )
        for w in by:
            errors.append(
                GraphError(
                    node=w,
                    code="runtime",
                    message=f"this in-place op overwrote the value of {nid}, which {saved} saved for backward "
                    f"(version {expected}, now {found}): turn inplace off here.",
                )
            )
    if not errors:  # PyTorch named no node: on the output, in its words, less its hint
        first = message.split(" Hint:")[0]
        errors.append(GraphError(node=output, code="runtime", message=f"backward failed: {first}"))
    return errors


def writers(nodes: Iterable[tuple[str, Any, Iterable[tuple[str, str]]]]) -> dict[str, list[str]]:
    """node -> the in-place nodes that write into its value, from (node id, attrs, its input edges
    as (port, source)): an in-place op overwrites what feeds its input port."""
    out: dict[str, list[str]] = {}
    for nid, attrs, inputs in nodes:
        if mutates(attrs):
            for port, source in inputs:
                if port == "input":
                    out.setdefault(source, []).append(nid)
    return out
