"""``geodl demo --quick``: trains, runs MD, prints the symmetry audit."""

from __future__ import annotations

from pathlib import Path

import pytest

from geodl.cli.main import main


@pytest.mark.slow
def test_demo_quick(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--quick", "--out", str(tmp_path / "demo")]) == 0
    text = capsys.readouterr().out
    assert "test errors" in text and "forces RMSE" in text
    assert "NVE molecular dynamics" in text and "meV/atom/ps" in text
    assert "symmetry audit" in text
    for group in ("permutation", "translation", "SO3", "E3"):
        assert group in text
    assert "BROKEN" not in text
    assert (tmp_path / "demo" / "model.pt").is_file()


@pytest.mark.slow
def test_demo_quick_equivariant(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "demo"
    assert main(["demo", "--quick", "--model-type", "equivariant", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "training a equivariant potential" in text and "symmetry audit" in text
    assert "BROKEN" not in text


def test_demo_unknown_model_type_lists_the_valid_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["demo", "--quick", "--model-type", "mace", "--out", str(tmp_path / "d")])
    assert code == 2
    err = capsys.readouterr().err
    assert "mace" in err and "se_e2_a" in err and "equivariant" in err
