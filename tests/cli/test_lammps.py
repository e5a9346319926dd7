"""``geodl lammps build|status``: idempotent build that prints where the plugin is."""

from __future__ import annotations

import pytest

from geodl.cli.main import main
from tests.deploy.conftest import lammps_missing


def test_action_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["lammps"])
    assert info.value.code == 2


@pytest.mark.skipif(bool(lammps_missing()), reason=lammps_missing() or "-")
def test_build_prints_the_plugin_path_and_status_agrees(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["lammps", "build"]) == 0
    out = capsys.readouterr().out
    assert "geodlplugin.so" in out and ("built in" in out or "up to date in" in out)
    assert main(["lammps", "build"]) == 0  # idempotent: nothing to compile the second time
    assert "up to date in" in capsys.readouterr().out
    assert main(["lammps", "status"]) == 0
    assert "state: up to date" in capsys.readouterr().out
