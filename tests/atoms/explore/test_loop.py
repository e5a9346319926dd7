"""The active-learning loop: a tiny run end to end (LJ argon, tiny models), the stopping
rule, MD restarts when everything fails, and resume after a real ``kill -9``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import ase.io
import numpy as np
import pytest

from geodl.atoms.ase import GeoDLCalculator, make_argon_lj
from geodl.atoms.explore import converged, explore, load_explore_config
from geodl.atoms.model import load_model
from geodl.cli.main import main

TINY = [
    "model.r_cut=5.0",
    "model.r_smooth=2.0",
    "model.embed_widths=[4,8]",
    "model.axis_neurons=2",
    "model.fitting_widths=[12]",
    "training.batch_size=2",
    "explore.committee=2",
    "explore.epochs=3",
    "explore.warm_epochs=2",
    "explore.final_epochs=3",
    "explore.trajectories=2",
    "explore.md_steps=20",
    "explore.sample_every=5",
    "explore.per_iteration=3",
    "explore.max_iterations=2",
    "explore.temperatures=[60, 90, 120]",
    "explore.timestep_fs=5",
]


@pytest.fixture(scope="module")
def argon(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("argon") / "init.extxyz"
    ase.io.write(path, make_argon_lj(6))
    return path


@pytest.fixture(scope="module")
def tiny_run(argon: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("explore") / "run"
    explore(
        argon,
        "lj",
        out,
        config=load_explore_config(overrides=TINY),
        max_time=600,
        log=lambda line: None,
    )
    return out


def test_converged_rule() -> None:
    def rows(pairs: list[tuple[float, float]]) -> list[dict[str, float]]:
        return [
            {"candidate": c, "failed": 0.1, "committee_fixed_valid_forces_rmse": v}
            for c, v in pairs
        ]

    improving = rows([(0.5, 0.2), (0.3, 0.15), (0.2, 0.15), (0.2, 0.12)])
    assert not converged(improving, 2, 0.1)  # each step improved one of the two
    flat = rows([(0.5, 0.2), (0.3, 0.1), (0.29, 0.098), (0.31, 0.11)])
    assert converged(flat, 2, 0.1) and not converged(flat, 3, 0.1)
    assert not converged(flat[:2], 2, 0.1)  # too few iterations to tell
    # everything accurate stops nothing while the committee's error still falls
    quiet = rows([(0.0, 0.2), (0.0, 0.15), (0.0, 0.1)])
    assert not converged(quiet, 2, 0.1)
    assert converged([*quiet, *rows([(0.0, 0.1), (0.0, 0.1)])], 2, 0.1)
    # the growing validation set's error is not what it compares (it rises as hard frames
    # join): only the fixed set's
    drifting = [{**r, "committee_valid_forces_rmse": 0.3 + 0.1 * k} for k, r in enumerate(quiet)]
    assert not converged(drifting, 2, 0.1)
    # committees stopped by the clock say nothing about the data: no convergence
    cut = [{**r, "committee_cut_short": 1} for r in flat]
    assert not converged(cut, 2, 0.1)
    assert converged([*cut[:2], *flat[2:]], 2, 0.1)  # only the window counts
    # small steps add up: 8 % then 9 % is 16 % over the window (a measured Cu/Au run)
    slow = rows([(0.0, 0.1347), (0.225, 0.1245), (0.0, 0.1134)])
    assert not converged(slow, 2, 0.1)
    assert converged([*slow, *rows([(0.0, 0.110), (0.0, 0.108)])], 2, 0.1)


def test_tiny_run_writes_model_dataset_and_summary(tiny_run: Path) -> None:
    summary = json.loads((tiny_run / "summary.json").read_text())
    for key in ("labels_used", "iterations", "converged", "stop_reason", "per_iteration"):
        assert key in summary
    assert summary["iterations"] == 2 and summary["stop_reason"] == "max_iterations"
    assert summary["converged"] is False and summary["finished"] is True
    dataset = ase.io.read(tiny_run / "dataset.extxyz", ":")
    assert summary["labels_used"] == len(dataset) > 6
    rows = summary["per_iteration"]
    for row in rows:
        assert row["accurate"] + row["candidate"] + row["failed"] == pytest.approx(1.0)
        assert 0 < row["trust_lo"] < row["trust_hi"]
        assert set(row["max_deviation"]) == {"mean", "median", "p90", "max"}
        assert row["labels_added"] <= 3 and row["wall_time"] > 0
        assert row["committee_fixed_valid_forces_rmse"] > 0
        assert 0 <= row["committee_cut_short"] <= 2
        # the adaptive lower level: at least twice the labels (3) or all that did not fail
        ok = round(row["n_explored"] * (1 - row["failed"]))
        assert row["n_pool"] >= min(6, ok)
        assert row["pool_lo"] is None or row["pool_lo"] <= row["trust_hi"]
    assert rows[1]["warm_started"] and not rows[0]["warm_started"]
    # the temperature cycle goes on across iterations (2 trajectories each)
    assert [row["md_retries"] for row in rows] == [0, 0]
    assert [row["temperatures"] for row in rows] == [[60.0, 90.0], [60.0, 120.0]]
    assert rows[-1]["labels_used"] == summary["labels_used"]
    # trajectories start from the initial frames (explore.starts: initial)
    n_init = len(ase.io.read(tiny_run / "init.extxyz", ":"))
    starts = [a.info["start_frame"] for a in dataset[n_init:]]
    assert starts and all(0 <= s < n_init for s in starts)
    # the final model starts from the last committee's best member
    last = tiny_run / f"iter_{summary['iterations'] - 1:03d}"
    rmse = [
        json.loads((last / f"member_{k}" / "done.json").read_text())["valid_forces_rmse"]
        for k in range(2)
    ]
    assert summary["final"]["started_from"] == f"member_{int(np.argmin(rmse))}"
    model = load_model(tiny_run / "model.pt")  # usable by the ASE calculator and geodl test
    atoms = dataset[0].copy()
    atoms.calc = GeoDLCalculator(model)
    assert np.isfinite(atoms.get_forces()).all()
    assert (
        main(
            [
                "test",
                "--model",
                str(tiny_run / "model.pt"),
                "--data",
                str(tiny_run / "dataset.extxyz"),
            ]
        )
        == 0
    )


def test_finished_run_is_not_redone(tiny_run: Path, argon: Path) -> None:
    lines: list[str] = []
    result = explore(
        argon,
        "lj",
        tiny_run,
        config=load_explore_config(overrides=TINY),
        max_time=600,
        log=lines.append,
    )
    assert "nothing to do" in lines[-1] and result.summary["iterations"] == 2
    with pytest.raises(ValueError, match="holds a run with other settings"):
        explore(
            argon,
            "lj",
            tiny_run,
            config=load_explore_config(overrides=[*TINY, "explore.seed=1"]),
            max_time=600,
            log=lambda line: None,
        )


def test_iteration_where_everything_fails_restarts_colder(argon: Path, tmp_path: Path) -> None:
    overrides = [
        *TINY,
        "trust_lo=1e-9",
        "trust_hi=2e-9",
        "retries=2",
        "max_iterations=1",
        "trajectories=1",
    ]
    out = tmp_path / "cold"
    result = explore(
        argon,
        "lj",
        out,
        config=load_explore_config(overrides=overrides),
        max_time=600,
        log=lambda line: None,
    )
    row = result.summary["per_iteration"][0]
    assert row["md_retries"] == 2 and row["temperatures"] == [15.0]  # 60 K / 2 / 2
    assert row["failed"] == 1.0 and row["candidate"] == 0.0
    assert row["fallback_pick"] and row["labels_added"] > 0  # the loop went on


COUNTING = """
import os
from ase.calculators.lj import LennardJones
class Counting(LennardJones):
    def calculate(self, atoms=None, properties=('energy',), system_changes=None):
        super().calculate(atoms, properties, system_changes or [])
        with open(os.environ['CALLS'], 'a') as fh:
            fh.write(f"{hash(self.atoms.positions.round(6).tobytes())}\\n")
def make():
    return Counting(sigma=3.405, epsilon=0.010323, rc=10.215, smooth=True)
"""


def test_killed_explore_resumes_with_the_same_command(
    argon: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "counting.py").write_text(COUNTING)
    reference = f"{tmp_path / 'counting.py'}:make"
    out = tmp_path / "run"
    calls = tmp_path / "calls.txt"
    args = [
        "explore",
        "--data",
        str(argon),
        "--reference",
        reference,
        "--out",
        str(out),
        "--max-time",
        "900",
    ]
    for pair in TINY:
        args += ["--set", pair]
    env = {**os.environ, "CALLS": str(calls)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "geodl.cli.main", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        if (out / "iter_001" / "member_0").exists():  # iteration 0 done, 1 under way
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL and not (out / "model.pt").exists()
    monkeypatch.setenv("CALLS", str(calls))
    assert main(args) == 0  # the same command, run again
    summary = json.loads((out / "summary.json").read_text())
    assert summary["finished"] and summary["iterations"] == 2
    labelled = calls.read_text().split()
    assert len(labelled) == len(set(labelled)) == summary["labels_used"]  # none twice
    assert len(ase.io.read(out / "dataset.extxyz", ":")) == summary["labels_used"]
