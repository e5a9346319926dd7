from __future__ import annotations

import json
from pathlib import Path

import pytest

from geodl.bench import BENCHMARKS
from geodl.cli.bench import format_table, parse_options
from geodl.cli.main import main


def test_parse_options_reads_json_values() -> None:
    assert parse_options(["epochs=3", "name=cnn", "sizes=[1, 2]", "flag=true"]) == {
        "epochs": 3,
        "name": "cnn",
        "sizes": [1, 2],
        "flag": True,
    }
    with pytest.raises(ValueError, match="KEY=VALUE"):
        parse_options(["epochs"])


def test_format_table_has_one_row_per_model() -> None:
    text = format_table(
        {"task": "t", "seed": 3, "results": {"a": {"acc": 0.5}, "b": {"acc": 0.25, "n": 2}}}
    )
    lines = text.splitlines()
    assert lines[0] == "task: t   seed: 3"
    assert lines[1].split() == ["model", "acc", "n"]
    assert lines[3].split() == ["a", "0.5"] and lines[4].split() == ["b", "0.25", "2"]


def test_unknown_benchmark_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["bench", "nonsense"])
    assert exc.value.code == 2
    assert "nonsense" in capsys.readouterr().err


def test_unknown_option_exits_2_and_lists_valid_ones(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "uap", "--quick", "--set", "no_such_option=1"]) == 2
    err = capsys.readouterr().err
    assert "no_such_option" in err and "Valid options:" in err and "widths" in err


def test_quick_run_writes_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "uap.json"
    rc = main(["bench", "uap", "--quick", "--seed", "2", "--set", "threads=1", "--json", str(out)])
    assert rc == 0
    result = json.loads(out.read_text())
    assert result["task"] == "uap" and result["seed"] == 2 and result["results"]
    assert "task: uap" in capsys.readouterr().out


def test_registry_names_are_the_cli_choices() -> None:
    assert {"mnist1d", "md-speed", "potential", "pointcloud", "tetris"} <= set(BENCHMARKS)
