"""``geodl.cli._common``: checks, JSON writing, the exception -> exit code mapping."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import pytest

from geodl.cli._common import (
    MAX_SEED,
    add_checked,
    check_device,
    check_input_file,
    check_number,
    check_output_dir,
    check_output_file,
    check_threads,
    exit_code,
    parse_set_options,
    positive_int,
    run_checks,
    run_command,
    seed_value,
    write_json,
)
from geodl.errors import InputError, UserCodeError


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (InputError("x"), 2),
        (ValueError("x"), 2),
        (TypeError("x"), 2),
        (FileNotFoundError(2, "No such file or directory", "f"), 2),
        (UserCodeError("the model", RuntimeError("boom")), 3),
        (RuntimeError("x"), 4),
        (KeyError("x"), 4),
        (ZeroDivisionError("x"), 4),
        (KeyboardInterrupt(), 130),
    ],
)
def test_exit_code_of_each_kind_of_error(exc: BaseException, code: int) -> None:
    assert exit_code(exc) == code


def _raise(exc: BaseException) -> int:
    raise exc


def test_run_command_prints_one_line_without_debug(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_command("x", lambda: _raise(InputError("--n must be >= 1, got 0."))) == 2
    err = capsys.readouterr().err
    assert err == "geodl x: error: --n must be >= 1, got 0.\n"


def test_run_command_internal_error_asks_for_a_report(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_command("x", lambda: _raise(RuntimeError("oops"))) == 4
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: oops" in err and "bug" in err and "--debug" in err
    assert "Traceback" not in err


def test_run_command_debug_prints_the_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_command("x", lambda: _raise(RuntimeError("oops")), debug=True) == 4
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "_raise" in err
    user = UserCodeError("the factory f()", ZeroDivisionError("division by zero"))
    assert run_command("x", lambda: _raise(user)) == 3
    err = capsys.readouterr().err
    assert "the factory f() raised ZeroDivisionError" in err and "--debug" in err


def test_run_command_passes_the_result_through() -> None:
    assert run_command("x", lambda: 1) == 1
    assert run_command("x", lambda: None) == 0


def test_os_errors_name_the_file(capsys: pytest.CaptureFixture[str]) -> None:
    exc = PermissionError(13, "Permission denied", "/x/y.json")
    assert run_command("x", lambda: _raise(exc)) == 2
    assert capsys.readouterr().err == "geodl x: error: Permission denied: '/x/y.json'\n"


@pytest.mark.parametrize("value", [0, -1, 1.5, True, "3", math.nan, None])
def test_positive_int_rejects(value: object) -> None:
    with pytest.raises(InputError, match="--n must be >= 1"):
        positive_int(value, "--n")


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, 0.0, -2.0, "1"])
def test_check_number_rejects_non_finite_and_out_of_range(value: object) -> None:
    with pytest.raises(InputError, match=r"--max-time must be > 0 \(a finite number\), got"):
        check_number(value, "--max-time", minimum=0, exclusive=True)


def test_seed_range() -> None:
    assert seed_value(0, "--seed") == 0 and seed_value(MAX_SEED, "--seed") == MAX_SEED
    for bad in (-1, MAX_SEED + 1, 2**70):
        with pytest.raises(InputError, match="--seed"):
            seed_value(bad, "--seed")


def test_threads() -> None:
    assert check_threads(0, "t") == 0 and check_threads(3, "t") == 3
    for bad in (-1, 1.5, "two", True):
        with pytest.raises(InputError, match="t must be >= 0"):
            check_threads(bad, "t")


def test_device() -> None:
    import torch

    assert check_device("auto", "d") == "auto" and check_device("cpu", "d") == "cpu"
    with pytest.raises(InputError, match="is not a torch device"):
        check_device("gpu", "training.device")
    with pytest.raises(InputError, match="training.device"):
        check_device("cuda:999", "training.device")
    if not torch.cuda.is_available():
        with pytest.raises(InputError, match="no CUDA device; use cpu or auto"):
            check_device("cuda", "training.device")


def test_output_dir(tmp_path: Path) -> None:
    assert check_output_dir(tmp_path / "a" / "b", "--out") == tmp_path / "a" / "b"
    f = tmp_path / "f.txt"
    f.write_text("x")
    with pytest.raises(InputError, match="--out: cannot create the directory .* is a file"):
        check_output_dir(f / "run", "--out")
    with pytest.raises(InputError, match="--out: .* is a file; choose a directory"):
        check_output_dir(f, "--out")


def test_output_file(tmp_path: Path) -> None:
    assert check_output_file(tmp_path / "new" / "x.json", "--json") == tmp_path / "new" / "x.json"
    with pytest.raises(InputError, match="--json: .* is a directory"):
        check_output_file(tmp_path, "--json")
    f = tmp_path / "f.txt"
    f.write_text("x")
    with pytest.raises(InputError, match="--json: cannot write .* is a file, not a directory"):
        check_output_file(f / "sub" / "x.json", "--json")


def test_input_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="--model: no such file .*; retrain"):
        check_input_file(tmp_path / "no.pt", "--model", "retrain")
    with pytest.raises(InputError, match="is a directory"):
        check_input_file(tmp_path, "--model")


def test_write_json_turns_os_errors_into_input_errors(tmp_path: Path) -> None:
    write_json(tmp_path / "d" / "ok.json", {"a": 1})
    assert (tmp_path / "d" / "ok.json").read_text() == '{\n  "a": 1\n}\n'
    f = tmp_path / "f.txt"
    f.write_text("x")
    with pytest.raises(InputError, match="--json: cannot write"):
        write_json(f / "x.json", {"a": 1})


def test_parse_set_options() -> None:
    assert parse_set_options(["a-b=1", "c=x", "d=[1]"]) == {"a_b": 1, "c": "x", "d": [1]}
    with pytest.raises(InputError, match="KEY=VALUE"):
        parse_set_options(["=3"])


def test_add_checked_registers_a_check_run_by_run_checks() -> None:
    parser = argparse.ArgumentParser()
    add_checked(parser, "--n", type=int, default=2, check=positive_int)
    add_checked(parser, "path", nargs="?", default=None, check=check_input_file)
    run_checks(parser.parse_args([]))  # defaults pass; None is not checked
    args = parser.parse_args(["--n", "0"])
    with pytest.raises(InputError, match="--n must be >= 1"):
        run_checks(args)
    with pytest.raises(InputError, match="path: no such file"):
        run_checks(parser.parse_args(["/no/such/file"]))
