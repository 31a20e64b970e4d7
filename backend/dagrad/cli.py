"""The `dagrad` command: serve the app, evaluate or validate graph files, list ops.

dagrad serve [--host H] [--port P] [--workers N]
dagrad eval graph.json [--json] [--full] [--device D] [--seed S]
                                exits 0; 1 when the graph has errors; 3 when it ran and one of
                                its exercise's checks (meta.exercise.checks) fails
dagrad validate graph.json [--json]
dagrad train graph.json [--steps N] [--optimizer adam] [--lr 1e-3] [--dataset moons] [--batch-size 32]
                        [--seed S] [--out trained.json] [--json]     (cli_train.py)
dagrad ops [--json]
dagrad examples [NAME]          list the examples, or print one as JSON
dagrad openapi                  print the OpenAPI schema (for generating client types)
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from dagrad import __version__, cli_train
from dagrad.errors import GraphError, GraphErrors, describe
from dagrad.graph_format import Graph
from dagrad.settings import LOOPBACK_HOSTS, Settings

CHECK_FAILED = 3  # `dagrad eval`'s status when the graph ran but one of its exercise's checks fails


def _read_graph(path: str) -> Graph:
    from dagrad import examples

    if path != "-" and not Path(path).exists():
        example = examples.load(Path(path).stem)
        if example is not None:
            return example
        raise SystemExit(f"dagrad: no file {path!r} (and no example of that name; see `dagrad examples`)")
    text = sys.stdin.read() if path == "-" else Path(path).read_text()
    return Graph.model_validate_json(text)


def _print_errors(errors: list[GraphError], as_json: bool) -> int:
    if as_json:
        print(json.dumps({"errors": [e.model_dump() for e in errors]}, indent=2))
    else:
        print(f"{len(errors)} error{'s' if len(errors) != 1 else ''}:", file=sys.stderr)
        for e in errors:
            print(f"  - {describe(e)}", file=sys.stderr)
    return 1


def _guarded(fn: Any, args: argparse.Namespace) -> int:
    try:
        return int(fn(args))
    except GraphErrors as exc:
        return _print_errors(exc.errors, getattr(args, "json", False))
    except ValidationError as exc:
        errors = [
            GraphError(
                code="malformed",
                message=f"{'.'.join(map(str, e['loc']))}: {e['msg'].removeprefix('Value error, ')}",
            )
            for e in exc.errors()
        ]
        return _print_errors(errors, getattr(args, "json", False))


def cmd_eval(args: argparse.Namespace) -> int:
    from dagrad.cli_table import DETAIL, render, render_backward_graph, render_backward_steps, render_checks
    from dagrad.engine import Engine
    from dagrad.errors import BackwardFailed
    from dagrad.results import BackwardGraph, PayloadOptions

    graph = _read_graph(args.graph)
    updates = {k: v for k, v in (("device", args.device), ("seed", args.seed), ("dtype", args.dtype)) if v is not None}
    if updates:
        graph = graph.model_copy(update={"run": graph.run.model_copy(update=updates)})
    # The table prints small tensors whole and summarises the rest, so it only needs small data.
    max_elements = None if args.json else DETAIL
    options = PayloadOptions(
        encoding="list",
        full=["*"] if args.full else [],
        max_elements=max_elements,
        backward_graph=args.backward_graph,
        backward_steps=args.backward_steps,
    )
    try:
        result = Engine().evaluate(graph, options)
    except BackwardFailed as exc:  # what the failing backward found, then the errors (_guarded)
        if isinstance(exc.backward_graph, BackwardGraph) and not args.json:
            print(render_backward_graph(exc.backward_graph))
        raise
    if args.json:
        print(result.model_dump_json(indent=2))
    else:
        print(render(result, full=args.full))
        if result.backward_graph is not None:
            print(render_backward_graph(result.backward_graph))
        if result.backward_graph is not None and result.backward_steps is not None:
            print(render_backward_steps(result.backward_graph, result.backward_steps))
        if result.checks is not None:
            print(render_checks(result.checks))
    return CHECK_FAILED if any(not c.passed for c in result.checks or ()) else 0


def cmd_gradcheck(args: argparse.Namespace) -> int:
    """Every gradient against finite differences; exit status 1 when one disagrees."""
    from dagrad.engine import Engine

    result = Engine().gradcheck(_read_graph(args.graph), args.max_elements)
    if args.json:
        print(result.model_dump_json(indent=2))
        return 0 if result.ok else 1
    width = max(len(n.node) for n in result.nodes)
    print(f"{'node':<{width}}  {'checked':>13}  {'max abs err':>11}  {'max rel err':>11}  verdict")
    for n in result.nodes:
        checked = f"{n.checked}/{n.numel}" + ("*" if n.sampled else "")
        what = "" if n.kind == "gradient" else f" (derivative wrt {n.moved})"
        verdict = (
            "ok"
            if n.ok
            else f"WRONG at {n.worst_index}: autograd {n.worst_analytic:.6g}, numeric {n.worst_numeric:.6g}"
        )
        kinks = f", {n.kinks} on a kink" if n.kinks else ""
        print(
            f"{n.node:<{width}}  {checked:>13}  {n.max_abs_error:>11.2e}  {n.max_rel_error:>11.2e}  {verdict}{kinks}{what}"
        )
    sampled = (
        f"; * a seeded sample of {result.elements_checked} of {result.elements_total} elements"
        if result.sampled
        else ""
    )
    verdict = "every gradient agrees" if result.ok else "some gradients disagree"
    print(
        f"{verdict}: central differences in float64, eps {result.eps:g}, |a - n| <= {result.atol:g} + "
        f"{result.rtol:g}·|n|{sampled}; {result.seconds:.2f} s"
    )
    return 0 if result.ok else 1


def cmd_validate(args: argparse.Namespace) -> int:
    from dagrad.engine import Engine
    from dagrad.errors import fmt_shape

    result = Engine().validate(_read_graph(args.graph))
    if args.json:
        print(result.model_dump_json(indent=2))
        return 0
    width = max(len(n) for n in result.nodes) if result.nodes else 4
    for nid, meta in result.nodes.items():
        grad = "requires_grad" if meta.requires_grad else ""
        print(f"{nid:<{width}}  {fmt_shape(meta.shape):<18} {meta.dtype:<8} {grad}")
    print(f"valid: {len(result.nodes)} nodes, about {result.estimated_bytes / 2**20:.2f} MiB")
    return 0


def cmd_ops(args: argparse.Namespace) -> int:
    from dagrad.api.routes.ops import list_ops

    if args.markdown:
        from dagrad.ops.docs import render_markdown

        print(render_markdown(), end="")
        return 0
    listing = list_ops()
    if args.json:
        print(listing.model_dump_json(indent=2))
        return 0
    for category in listing.categories:
        print(f"{category}:")
        for op in listing.ops:
            if op.category == category:
                ports = ", ".join(p.name + ("?" if p.optional else "") + ("[]" if p.variadic else "") for p in op.ports)
                print(f"  {op.name:<22} ({ports})  {op.doc.splitlines()[0]}")
    return 0


def cmd_examples(args: argparse.Namespace) -> int:
    from dagrad import examples

    if args.name:
        graph = examples.load(args.name)
        if graph is None:
            raise SystemExit(f"dagrad: no example {args.name!r}; available: {', '.join(examples.names())}")
        print(graph.model_dump_json(indent=2, exclude_defaults=True))
        return 0
    for name, graph in examples.load_all().items():
        print(f"{name:<28} {graph.title or ''}")
    return 0


def cmd_openapi(args: argparse.Namespace) -> int:
    from dagrad.api.app import create_app

    print(json.dumps(create_app().openapi(), indent=2, sort_keys=True))
    return 0


def is_loopback(host: str) -> bool:
    try:
        return host.strip("[]").lower() == "localhost" or ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a name: it may resolve to anything
        return False


def exposure_warning(host: str, port: int, settings: Settings) -> str | None:
    """What `dagrad serve` says on stderr when it listens beyond this machine: loudly with no class
    token; a reminder of DAGRAD_ALLOWED_HOSTS when only the loopback names are allowed."""
    if is_loopback(host):
        return None
    hosts = (
        "Browsers reach it only by the names in DAGRAD_ALLOWED_HOSTS (now "
        f"{','.join(settings.allowed_hosts)}): set it to the name or IP students type, for example "
        "DAGRAD_ALLOWED_HOSTS=dagrad.school.example,10.0.0.5."
    )
    if settings.token is not None:
        return None if set(settings.allowed_hosts) - set(LOOPBACK_HOSTS) else hosts
    rule = "!" * 78
    return "\n".join(
        [
            rule,
            f"WARNING: dagrad is listening on {host}:{port} with no token (DAGRAD_TOKEN is not set).",
            "Anyone who can reach this port can use this server: run graphs on its CPU (and GPU)",
            "and open presenter rooms. Set a class token, and give students the link",
            f"http://<this host>:{port}/?token=<token>:",
            "    DAGRAD_TOKEN=$(python3 -c 'import secrets; print(secrets.token_urlsafe(16))') dagrad serve ...",
            "and DAGRAD_TEACHER_TOKEN for the presenter controls.",
            hosts,
            rule,
        ]
    )


# A token a student can type but no one can guess: the server answers a wrong token as fast as a
# right one, so its strength is its length; 16 random characters of token_urlsafe hold 96 bits.
STRONG_TOKEN_CHARACTERS = 16


def short_token_warning(host: str, settings: Settings) -> str | None:
    """What `dagrad serve` says when it listens beyond this machine with a token short enough to
    guess by trying: the server does not slow wrong guesses (behind a swarm's mesh or a school's
    NAT many students share one address, and a limit per address would lock a class out)."""
    if is_loopback(host):
        return None
    short = [
        f"{name} has {len(token)} characters"
        for name, token in (("DAGRAD_TOKEN", settings.token), ("DAGRAD_TEACHER_TOKEN", settings.teacher_token))
        if token is not None and len(token) < STRONG_TOKEN_CHARACTERS
    ]
    if not short:
        return None
    return (
        f"dagrad: {' and '.join(short)}: anyone who reaches this port may try tokens as fast as the server "
        f"answers, so a short one can be guessed. Use {STRONG_TOKEN_CHARACTERS} or more random characters: "
        "python3 -c 'import secrets; print(secrets.token_urlsafe(16))'."
    )


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = Settings()
    for warning in (exposure_warning(args.host, args.port, settings), short_token_warning(args.host, settings)):
        if warning:
            print(warning, file=sys.stderr, flush=True)
    if args.workers > 1 and not settings.redis_url:
        print(
            f"dagrad: {args.workers} server processes without DAGRAD_REDIS_URL: a presenter room lives in the "
            "process that opened it, and students reaching another one will not find it. Set DAGRAD_REDIS_URL "
            "(docs/rooms.md), or serve with one process.",
            file=sys.stderr,
            flush=True,
        )
    print(f"dagrad {__version__}: open http://{args.host}:{args.port}/ (API docs at /docs)", flush=True)
    uvicorn.run("dagrad.api.main:app", host=args.host, port=args.port, workers=args.workers, log_level=args.log_level)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dagrad", description="A visual DAG builder and autograd explorer.")
    parser.add_argument("--version", action="version", version=f"dagrad {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the editor and the REST API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(fn=cmd_serve)

    ev = sub.add_parser("eval", help="evaluate a graph file: every node's shape, value and gradient")
    ev.add_argument("graph", help="a graph JSON file, '-' for stdin, or an example's name")
    ev.add_argument("--json", action="store_true", help="print the full JSON response")
    ev.add_argument("--full", action="store_true", help="print whole tensors, not summaries")
    ev.add_argument("--device", choices=["cpu", "cuda", "auto"])
    ev.add_argument("--dtype", choices=["float32", "float64"])
    ev.add_argument("--seed", type=int)
    ev.add_argument("--backward-graph", action="store_true", help="also print the autograd graph the run built")
    ev.add_argument(
        "--backward-steps",
        action="store_true",
        help="also print each backward step as autograd ran it: what arrived and what it sent on (with the graph)",
    )
    ev.set_defaults(fn=cmd_eval)

    gc = sub.add_parser(
        "gradcheck",
        help="compare every gradient of a graph with finite differences in float64 (exit 1 if one disagrees)",
    )
    gc.add_argument("graph", help="a graph JSON file, '-' for stdin, or an example's name")
    gc.add_argument("--max-elements", type=int, help="most elements to move, over all nodes (the server default: 128)")
    gc.add_argument("--json", action="store_true")
    gc.set_defaults(fn=cmd_gradcheck)

    va = sub.add_parser("validate", help="check a graph file and print every node's shape")
    va.add_argument("graph")
    va.add_argument("--json", action="store_true")
    va.set_defaults(fn=cmd_validate)

    ops = sub.add_parser("ops", help="list the ops")
    ops.add_argument("--json", action="store_true")
    ops.add_argument("--markdown", action="store_true", help="print docs/ops.md")
    ops.set_defaults(fn=cmd_ops)

    ex = sub.add_parser("examples", help="list the course examples, or print one")
    ex.add_argument("name", nargs="?")
    ex.set_defaults(fn=cmd_examples)

    cli_train.add_parser(sub)
    sub.choices["train"].set_defaults(fn=lambda args: cli_train.cmd_train(args, _read_graph(args.graph)))

    oa = sub.add_parser("openapi", help="print the OpenAPI schema")
    oa.set_defaults(fn=cmd_openapi)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _guarded(args.fn, args)
    except BrokenPipeError:  # `dagrad ops | head`
        sys.stderr.close()
        return 0
