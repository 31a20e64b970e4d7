"""`dagrad train`: the chapter's numbers, flags over the train section, --out and --json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dagrad import examples
from dagrad.cli import main
from dagrad.engine import Engine


@pytest.mark.parametrize(
    ("name", "a", "b"), [("train_descent", "0.4246", "-0.4246"), ("train_descent_detach", "0.5099", "-0.4901")]
)
def test_the_chapters_numbers(name: str, a: str, b: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", name]) == 0
    out = capsys.readouterr().out
    assert f"a = {a}" in out
    assert f"b = {b}" in out
    assert "100 steps" in out


def test_flags_override_and_the_saved_graph_trains_as_the_api(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = tmp_path / "moons.json"
    graph = examples.load("train_moons_mlp")
    assert graph is not None
    saved.write_text(graph.model_dump_json())
    out = tmp_path / "trained.json"
    args = ["train", str(saved), "--steps", "30", "--optimizer", "adamw", "--lr", "0.02", "--batch-size", "16"]
    assert main([*args, "--seed", "3", "--out", str(out), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["steps"] == 30
    trained = json.loads(out.read_text())
    assert trained["train"]["optimizer"] == {"name": "adamw", "lr": 0.02, "betas": [0.9, 0.999], "eps": 1e-8,
                                             "weight_decay": 0.01}  # fmt: skip
    assert trained["train"]["data"]["batch_size"] == 16
    # the same training through the engine (as the page's server runs it): the same numbers
    doc = graph.model_dump()
    doc["train"] = trained["train"]
    again = Engine().train(type(graph).model_validate(doc))
    assert [p.loss for p in again.history] == [p["loss"] for p in result["history"]]


def test_bad_flags_are_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "train_descent", "--lr", "0"]) == 1
    assert "lr" in capsys.readouterr().err
    assert main(["train", "train_descent", "--steps", "0"]) == 1
