"""How PyTorch spells one node: its op called on the nodes wired to it, with its attributes as set.

The editor shows this line for the selected node, so it must follow the attributes (an inplace
relu is `F.relu(x, inplace=True)`, a grad node with create_graph says so) and be code that does
what the node does: tests/test_spelling.py runs every op's line on the op's examples and
compares its result with the op's own call.

A speller gets the node's `Wiring` (which node feeds each port; a port not wired yet is named
by its own name) and its validated attributes. `call(...)` makes one from a function's name;
an op PyTorch spells otherwise (a method, an index, `.values` of a result) writes its own with
the helpers here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel


@dataclass(frozen=True)
class Wiring:
    """The node's ports in the op's order, each with whether it is optional, and what feeds each."""

    ports: Sequence[tuple[str, bool]]  # (name, optional)
    sources: Mapping[str, str | list[str]]
    # The run's train/eval switch (Run.training), for an op that uses the run: batch_norm and
    # dropout spell it as the run has it.
    training: bool = True

    def __getitem__(self, port: str) -> str:
        """What feeds `port`: a node's id, a list of them, or the port's name while unwired."""
        source = self.sources.get(port)
        if source is None:
            return port
        return "[" + ", ".join(source) + "]" if isinstance(source, list) else source

    def required(self) -> list[str]:
        return [self[name] for name, optional in self.ports if not optional]

    def optional(self) -> list[str]:
        """`port=source` for each optional port that is wired."""
        return [f"{name}={self[name]}" for name, optional in self.ports if optional and name in self.sources]


# spell(wiring, attrs) -> one line of PyTorch
SpellFn = Callable[[Wiring, Any], str]


def literal(value: Any) -> str:
    """An attribute's value as Python writes it: True, None, 0.5, 'mean', [2, 1]."""
    return repr(value)


def changed(attrs: BaseModel, names: Sequence[str]) -> list[str]:
    """`name=value` for each of these attributes that differs from its default: the attributes'
    defaults are PyTorch's, so one left at it is left out, as a person writing the call would."""
    fields = type(attrs).model_fields
    out = []
    for name in names:
        value = getattr(attrs, name)
        if fields[name].is_required() or value != fields[name].default:
            out.append(f"{name}={literal(value)}")
    return out


def call(
    fn: str,
    *,
    positional: Sequence[str] = (),
    keyword: Sequence[str] = (),
    inplace: str | None = None,
    suffix: str = "",
    omit: Sequence[str] = (),
) -> SpellFn:
    """`fn(required ports..., positional attrs..., optional ports=..., other attrs=...)`.

    `positional`: attributes PyTorch takes by position and has no default for (pow's exponent,
    transpose's dims); `keyword`: attributes always written by name, whatever their value
    (softmax's dim, which PyTorch would otherwise guess); every other attribute, but those in
    `omit`, is written when it differs from its default. `inplace`: the in-place method
    (`tanh_`) called on the first port instead when the `inplace` attribute is on; `suffix`
    follows the call (`.values`).
    """

    def spell(wiring: Wiring, attrs: BaseModel) -> str:
        on = inplace is not None and bool(getattr(attrs, "inplace", False))
        named = {*positional, *keyword, *omit, *(("inplace",) if on else ())}
        args = wiring.required() + [literal(getattr(attrs, a)) for a in positional] + wiring.optional()
        args += [f"{a}={literal(getattr(attrs, a))}" for a in keyword]
        args += changed(attrs, [n for n in type(attrs).model_fields if n not in named])
        if on:
            return f"{args[0]}.{inplace}({', '.join(args[1:])}){suffix}"
        return f"{fn}({', '.join(args)}){suffix}"

    return spell


def method(name: str, *, star: str | None = None) -> SpellFn:
    """`input.name(...)`: detach, view; `star` spells a list attribute as separate arguments
    (x.view(-1, 256); a scalar's empty shape as x.view(()))."""

    def spell(wiring: Wiring, attrs: BaseModel) -> str:
        first, *args = wiring.required()
        if star is not None:
            args += [literal(v) for v in getattr(attrs, star)] or ["()"]
        return f"{first}.{name}({', '.join(args)})"

    return spell


def sizes(shape: Sequence[int]) -> str:
    """A shape as PyTorch's factories take it: 2, 3 (a scalar's is ())."""
    return ", ".join(str(d) for d in shape) if shape else "()"
