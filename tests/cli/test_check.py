"""``geodl check``: exit codes 0 / 1 / 2, messages, JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from geodl.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
REF = str(ROOT / "examples" / "reference_models.py")


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["check", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_holds_exits_0_and_writes_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out_file = tmp_path / "sub" / "check.json"
    code, out, _ = _run(
        capsys,
        f"{REF}:literal_omega",
        "--group",
        "permutation",
        "--input",
        "points:8",
        "--json",
        str(out_file),
    )
    assert code == 0 and "exact" in out
    (row,) = json.loads(out_file.read_text())
    assert row["group"] == "permutation" and row["verdict"] == "exact"
    assert set(row) >= {"group", "verdict", "max_rel_error", "max_abs_error", "tolerance", "dtype"}
    assert row["dtype"] == "float64" and row["max_rel_error"] < row["tolerance"]


def test_broken_exits_1_and_names_the_culprit(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, f"{REF}:literal_omega", "--group", "SO3", "--input", "points:8")
    assert code == 1 and "broken" in out and "head.0" in out


def test_approximate_exits_0_unless_exact_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    args = [f"{REF}:cnn_zero_pad", "--group", "shift", "--input", "image:1,16,16"]
    code, out, _ = _run(capsys, *args)
    assert code == 0 and "approximate" in out and "boundary" in out
    code, _, _ = _run(capsys, *args, "--exact")
    assert code == 1


def test_tolerance_option(capsys: pytest.CaptureFixture[str]) -> None:
    args = [f"{REF}:injected_break", "--group", "SO3", "--input", "points:8"]
    assert _run(capsys, *args)[0] == 1
    code, out, _ = _run(capsys, *args, "--tolerance", "0.5")
    assert code == 0 and "approximate" in out


def test_output_representations_and_module_targets(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(
        capsys,
        f"{REF}:scalar_and_dipole",
        "--group",
        "O3",
        "--input",
        "points:6",
        "--output",
        "1x0e + 1x1o",
        "--samples",
        "4",
    )
    assert code == 0 and "1x0e + 1x1o" in out
    code, _, _ = _run(capsys, f"{REF}:chiral", "--group", "O3", "--input", "points:6")
    assert code == 1
    code, _, _ = _run(
        capsys,
        "torch.nn:Identity",
        "--group",
        "C4",
        "--input",
        "image:1,6,6",
        "--output",
        "equivariant",
    )
    assert code == 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([f"{REF}:mlp_flat", "--group", "Q5", "--input", "points:4"], "unknown group 'Q5'"),
        (
            [f"{REF}:mlp_flat", "--group", "SO3", "--input", "image:1,4,4"],
            "does not act on inputs of kind 'image'",
        ),
        ([f"{REF}:mlp_flat", "--group", "SO3", "--input", "pointz:4"], "unknown kind 'pointz'"),
        (
            [f"{REF}:mlp_flat", "--group", "SO3", "--input", "points:4", "--output", "spinor"],
            "unknown representation",
        ),
        ([f"{REF}:nope", "--group", "SO3", "--input", "points:4"], "no callable 'nope'"),
        (["missing/file.py:f", "--group", "SO3", "--input", "points:4"], "does not exist"),
        (["geodl.no_such_module:f", "--group", "SO3", "--input", "points:4"], "cannot import"),
        ([REF, "--group", "SO3", "--input", "points:4"], "path/to/file.py:factory"),
        (
            [f"{REF}:mlp_flat", "--group", "SO3", "--input", "points:4", "--samples", "0"],
            "--samples",
        ),
    ],
)
def test_bad_usage_exits_2_with_a_message(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, _, err = _run(capsys, *argv)
    assert code == 2
    assert message in err and "geodl check: error" in err


def test_missing_required_option_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", f"{REF}:mlp_flat", "--input", "points:4"]) == 2
    assert "--group is required" in capsys.readouterr().err
    assert main(["check", "--group", "SO3", "--input", "points:4"]) == 2
    assert "give TARGET" in capsys.readouterr().err


def test_a_model_that_raises_exits_3(capsys: pytest.CaptureFixture[str]) -> None:
    # an image CNN fed points raises inside the model: exit 3, not 1 (broken) or 2
    code, _, err = _run(capsys, f"{REF}:cnn_zero_pad", "--group", "SO3", "--input", "points:4")
    assert code == 3 and "raised RuntimeError" in err
    code, _, err = _run(capsys, "torch:lambda x: x[99]", "--group", "SO3", "--input", "points:4")
    assert code == 3 and "IndexError" in err
    # an expression is the model itself: a lambda of no argument raises when called
    code, _, err = _run(capsys, "math:lambda: 1 / 0", "--group", "SO3", "--input", "points:4")
    assert code == 3 and "TypeError" in err
    assert main(["audit", f"{REF}:cnn_zero_pad", "--input", "points:4"]) == 3


def test_expressions_closures_dtype_and_batch_axis(capsys: pytest.CaptureFixture[str]) -> None:
    # a lambda from module:expression, checked in float32
    code, out, _ = _run(
        capsys, "torch:lambda x: torch.cdist(x, x).sum()", "--group", "E3", "--input",
        "points:6", "--dtype", "float32",
    )  # fmt: skip
    assert code == 0 and "float32" in out and "exact" in out
    # a model taking a batch: the batch axis is added and removed
    code, out, _ = _run(
        capsys, "torch:lambda x: torch.cdist(x, x).sum((1, 2))", "--group", "SO3", "--input",
        "points:6", "--batch-axis", "0",
    )  # fmt: skip
    assert code == 0 and "exact" in out
    code, _, err = _run(
        capsys, "torch:lambda x: torch.cdist(x, x).sum(0)", "--group", "SO3", "--input",
        "points:6", "--batch-axis", "0",
    )  # fmt: skip
    assert code == 2 and "batch_axis" in err
    # a closure (a function of the input defined in a module) is the model itself
    code, out, _ = _run(capsys, "torch.linalg:norm", "--group", "O3", "--input", "points:5")
    assert code == 0


def test_vacuous_fails_unless_allowed(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["torch:lambda x: torch.zeros(())", "--group", "SO3", "--input", "points:5"]
    code, out, err = _run(capsys, *args)
    assert code == 1 and "vacuous" in out and "--allow-vacuous" in err
    assert _run(capsys, *args, "--allow-vacuous")[0] == 0


def test_calculator(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from ase.build import bulk
    from ase.io import write

    atoms = bulk("Cu", cubic=True)
    atoms.rattle(0.05, seed=1)
    path = tmp_path / "cu.extxyz"
    write(path, atoms)
    code, out, _ = _run(
        capsys, "--calculator", "ase.calculators.emt:EMT", "--atoms", str(path), "--samples", "2",
        "--json", str(tmp_path / "calc.json"),
    )  # fmt: skip
    assert code == 0 and "output 'stress'" in out
    (row,) = json.loads((tmp_path / "calc.json").read_text())
    assert set(row["outputs"]) == {"energy", "forces", "stress"}
    assert _run(capsys, "--calculator", "ase.calculators.emt:EMT")[0] == 2
