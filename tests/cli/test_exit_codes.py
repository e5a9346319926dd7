"""The exit codes of every command (issue #16): 0 success, 1 a negative result, 2 usage
or input error, 3 the user's code raised, 4 internal error — one line, no traceback
unless ``--debug``."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import ase.io
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import geodl.atoms
import geodl.bench
from geodl.atoms import EnergyModel, EnergyModelConfig, save_model
from geodl.atoms.data import bundled_dataset
from geodl.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
REF = str(ROOT / "examples" / "reference_models.py")
TINY = ["--set", "model.embed_widths=[4]", "--set", "model.fitting_widths=[4]"]
TINY += ["--set", "model.axis_neurons=2", "--set", "model.r_cut=4.0", "--set", "progress=false"]


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """Exit code and stderr of ``geodl ARGV`` (argparse's SystemExit included)."""
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, capsys.readouterr().err


def _one_line_error(err: str, *words: str) -> None:
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line]
    assert len(lines) == 1, err
    for word in words:
        assert word in lines[0], err


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("files")
    data = tmp / "d.extxyz"
    ase.io.write(data, ase.io.read(bundled_dataset("cuau"), index=":6"))
    torch.manual_seed(0)
    config = EnergyModelConfig(
        type_map=["Cu", "Au"],
        r_cut=4.0,
        r_smooth=0.5,
        embed_widths=(4,),
        axis_neurons=2,
        fitting_widths=(4,),
    )
    model = tmp / "model.pt"
    save_model(EnergyModel(config), model)
    garbage = tmp / "garbage.pt"
    garbage.write_bytes(b"\x80\x02this is not a model" * 10)
    a_file = tmp / "a_file.txt"
    a_file.write_text("not a directory")
    return {"data": data, "model": model, "garbage": garbage, "file": a_file, "tmp": tmp}


# ----------------------------------------------------------------------- code 2, one line
def test_out_under_a_file_exits_2(files: dict[str, Path], capsys: pytest.CaptureFixture) -> None:
    out = str(files["file"] / "run")
    code, err = _run(capsys, "train", "--data", str(files["data"]), "--out", out)
    assert code == 2
    _one_line_error(err, "geodl train: error: --out", "is a file", "Choose a path")
    code, err = _run(capsys, "demo", "--quick", "--out", out)
    assert code == 2
    _one_line_error(err, "geodl demo: error: --out")
    code, err = _run(capsys, "train", "--data", str(files["data"]), "--set", f"out={out}")
    assert code == 2
    _one_line_error(err, "geodl train: error: out: cannot create the directory")


def test_corrupt_checkpoint_exits_2(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "checkpoint.pt").write_bytes(b"PK\x03\x04 truncated zip")
    code, err = _run(capsys, "train", "--data", str(files["data"]), "--out", str(out), *TINY)
    assert code == 2
    _one_line_error(err, "checkpoint", "checkpoint.pt", "is corrupt", "Delete it")


def test_cuda_without_cuda_exits_2(files: dict[str, Path], capsys: pytest.CaptureFixture) -> None:
    data = str(files["data"])
    code, err = _run(capsys, "train", "--data", data, "--set", "training.device=cuda:999")
    assert code == 2
    _one_line_error(err, "training.device", "cuda:999")
    if not torch.cuda.is_available():
        code, err = _run(capsys, "train", "--data", data, "--set", "training.device=cuda")
        assert code == 2
        _one_line_error(err, "training.device", "no CUDA device", "use cpu or auto")


def test_negative_thread_counts_exit_2(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    data = str(files["data"])
    code, err = _run(capsys, "train", "--data", data, "--set", "training.num_threads=-2")
    assert code == 2
    _one_line_error(err, "training.num_threads must be >= 0", "-2")
    code, err = _run(capsys, "bench", "uap", "--quick", "--set", "threads=-1")
    assert code == 2
    _one_line_error(err, "--set threads must be >= 0", "-1")


@pytest.mark.parametrize("which", ["garbage", "file", "data"])
def test_garbage_model_file_exits_2(
    which: str, files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """Bytes that are not a zip, a text file, an extxyz file: never a traceback."""
    argv = ["test", "--model", str(files[which]), "--data", str(files["data"])]
    code, err = _run(capsys, *argv)
    assert code == 2
    _one_line_error(err, "geodl test: error: --model: model file", "is corrupt", "model.pt")


def test_hostile_pickle_is_refused(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A model file that would run code when unpickled is an input error, and runs nothing."""
    import pickle

    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self) -> tuple[Any, tuple[str, str]]:
            return (open, (str(marker), "w"))  # creates the marker if it ever runs

    hostile = tmp_path / "hostile.pt"
    with hostile.open("wb") as fh:
        pickle.dump({"format": "geodl.atoms.EnergyModel", "x": Evil()}, fh, protocol=2)
    code, err = _run(capsys, "test", "--model", str(hostile), "--data", str(files["data"]))
    assert code == 2 and not marker.exists()
    _one_line_error(err, "--model")


@pytest.mark.parametrize("where", ["under_file", "directory"])
def test_unwritable_json_exits_2_before_any_work(
    where: str,
    files: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    target = files["file"] / "m.json" if where == "under_file" else files["tmp"]
    called = []
    monkeypatch.setattr(geodl.atoms, "evaluate", lambda *a, **k: called.append(1) or {})
    argv = ["test", "--model", str(files["model"]), "--data", str(files["data"])]
    code, err = _run(capsys, *argv, "--json", str(target))
    assert code == 2 and not called
    _one_line_error(err, "geodl test: error: --json")
    code, err = _run(capsys, "bench", "uap", "--quick", "--json", str(target))
    assert code == 2
    _one_line_error(err, "geodl bench: error: --json")


# ----------------------------------------------------------------------- codes 3 and 4
def test_user_code_that_raises_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    module = tmp_path / "user_models.py"
    module.write_text("def broken():\n    return 1 / 0\n")
    argv = ["check", f"{module}:broken", "--group", "SO3", "--input", "points:4"]
    code, err = _run(capsys, *argv)
    assert code == 3
    _one_line_error(err, "the factory broken()", "raised ZeroDivisionError", "--debug")
    code, err = _run(capsys, *argv, "--debug")
    assert code == 3 and "Traceback (most recent call last)" in err and "1 / 0" in err
    code, err = _run(capsys, "audit", f"{module}:broken", "--input", "points:4")
    assert code == 3


_RAISING_MODEL = """
import torch

class Model(torch.nn.Module):
    def forward(self, x):
        return x.sum() / {}[x.shape[0]]   # KeyError: the user's bug

def make():
    return Model()
"""


def test_model_that_raises_while_checked_exits_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    module = tmp_path / "raising_model.py"
    module.write_text(_RAISING_MODEL)
    argv = ["check", f"{module}:make", "--group", "SO3", "--input", "points:4"]
    code, err = _run(capsys, *argv)
    assert code == 3
    _one_line_error(err, "the model of", "raised KeyError")
    code, err = _run(capsys, "audit", f"{module}:make", "--input", "points:4")
    assert code == 3
    _one_line_error(err, "the model of", "raised KeyError")


def test_a_harness_bug_is_not_blamed_on_the_model(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import geodl.symmetry

    def buggy_harness(*args: Any, **kwargs: Any) -> Any:
        raise KeyError("inside geodl")

    monkeypatch.setattr(geodl.symmetry, "check_equivariance", buggy_harness)
    code, err = _run(capsys, "check", f"{REF}:mlp_flat", "--group", "SO3", "--input", "points:4")
    assert code == 4 and "internal error: KeyError" in err


def test_user_module_that_raises_at_import_exits_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    module = tmp_path / "bad_import.py"
    module.write_text("import no_such_dependency_xyz\n\ndef make():\n    return None\n")
    code, err = _run(capsys, "check", f"{module}:make", "--group", "SO3", "--input", "points:4")
    assert code == 3
    _one_line_error(err, "importing", "bad_import.py", "ModuleNotFoundError")


def test_factory_that_needs_arguments_is_a_usage_error(capsys: pytest.CaptureFixture) -> None:
    code, err = _run(capsys, "check", "torch.nn:Linear", "--group", "SO3", "--input", "points:4")
    assert code == 2
    _one_line_error(err, "cannot be called without arguments")


def test_internal_error_exits_4_with_a_report_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def buggy(seed: int = 0, quick: bool = False) -> dict[str, Any]:
        raise KeyError("a bug")

    monkeypatch.setattr(geodl.bench, "resolve_benchmark", lambda name: buggy)
    code, err = _run(capsys, "bench", "uap")
    assert code == 4 and "Traceback" not in err
    assert "internal error: KeyError" in err and "rerun with --debug and report it" in err
    code, err = _run(capsys, "--debug", "bench", "uap")
    assert code == 4 and "Traceback (most recent call last)" in err and "buggy" in err


def test_help_documents_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "3 your model or code raised" in out and "4 internal error" in out


# ----------------------------------------------------------------------- random options
_NUMBERS = st.one_of(
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["0", "-1", "1e400", "nan", "abc", "", "[1]", "true", "1.5"]),
).map(str)


def _fake_fit(self: Any, train: Any, valid: Any = None, test: Any = None) -> Any:
    """Stands for Trainer.fit: everything before training runs for real."""
    metrics = dict.fromkeys(["energy_mae_per_atom", "energy_rmse_per_atom"], 0.0)
    metrics.update(forces_mae=0.0, forces_rmse=0.0, n_structures=len(train))
    return geodl.atoms.TrainResult(model=None, history=[], valid_metrics=metrics)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    max_time=st.none() | _NUMBERS,
    sets=st.lists(
        st.tuples(
            st.sampled_from(
                [
                    "training.num_threads",
                    "training.device",
                    "training.batch_size",
                    "training.epochs",
                    "training.lr",
                    "data.valid_fraction",
                    "data.index",
                    "model.r_cut",
                ]
            ),
            _NUMBERS | st.sampled_from(["cpu", "cuda", "cuda:3", "tpu", "auto"]),
        ),
        max_size=3,
    ),
    out=st.sampled_from(["ok", "under_file", "file"]),
    data=st.sampled_from(["data", "missing", "garbage"]),
)
def test_random_train_options_run_or_exit_2(
    max_time: str | None,
    sets: list[tuple[str, str]],
    out: str,
    data: str,
    files: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(geodl.atoms.Trainer, "fit", _fake_fit)
    outs = {"ok": files["tmp"] / "runs" / "r", "under_file": files["file"] / "r"}
    outs["file"] = files["file"]
    datas = {"data": files["data"], "missing": files["tmp"] / "no.xyz", "garbage": files["garbage"]}
    argv = ["train", "--data", str(datas[data]), "--out", str(outs[out])]
    argv += [] if max_time is None else [f"--max-time={max_time}"]
    for key, value in sets:
        argv += ["--set", f"{key}={value}"]
    code, err = _run(capsys, *argv)
    assert code in (0, 2), (argv, code, err)
    assert "Traceback" not in err, (argv, err)
    assert (code == 0) == (not err), (argv, err)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    batch_size=st.none() | _NUMBERS,
    model=st.sampled_from(["model", "garbage", "file", "data", "missing"]),
    data=st.sampled_from(["data", "garbage", "missing", "model"]),
    json_to=st.sampled_from([None, "ok", "under_file", "directory"]),
    key=st.none() | st.sampled_from(["energy", "forces", "nope", ""]),
)
def test_random_test_options_run_or_exit_2(
    batch_size: str | None,
    model: str,
    data: str,
    json_to: str | None,
    key: str | None,
    files: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    paths = dict(files, missing=files["tmp"] / "missing.pt")
    jsons = {"ok": files["tmp"] / "j" / "m.json", "under_file": files["file"] / "m.json"}
    jsons["directory"] = files["tmp"]
    argv = ["test", "--model", str(paths[model]), "--data", str(paths[data])]
    argv += [] if batch_size is None else [f"--batch-size={batch_size}"]
    argv += [] if json_to is None else ["--json", str(jsons[json_to])]
    argv += [] if key is None else [f"--energy-key={key}"]
    code, err = _run(capsys, *argv)
    assert code in (0, 2), (argv, code, err)
    assert "Traceback" not in err, (argv, err)


_REAL_RESOLVE = geodl.bench.resolve_benchmark


def _fake_resolve(name: str) -> Any:
    """The benchmark's signature (so option names are checked), without the run."""
    real = _REAL_RESOLVE(name)

    def fake(seed: int = 0, quick: bool = False, **options: Any) -> dict[str, Any]:
        return {"task": name, "seed": seed, "results": {"m": {"x": 1.0}}}

    fake.__signature__ = inspect.signature(real)  # type: ignore[attr-defined]
    return fake


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    name=st.sampled_from(["uap", "potential", "tetris", "md-speed", "nope"]),
    seed=st.none() | _NUMBERS,
    sets=st.lists(
        st.tuples(st.sampled_from(["threads", "epochs", "nonsense", "=", ""]), _NUMBERS),
        max_size=3,
    ),
    json_to=st.sampled_from([None, "ok", "under_file", "directory"]),
)
def test_random_bench_options_run_or_exit_2(
    name: str,
    seed: str | None,
    sets: list[tuple[str, str]],
    json_to: str | None,
    files: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(geodl.bench, "resolve_benchmark", _fake_resolve)
    jsons = {"ok": files["tmp"] / "b" / "b.json", "under_file": files["file"] / "b.json"}
    jsons["directory"] = files["tmp"]
    argv = ["bench", name]
    argv += [] if seed is None else [f"--seed={seed}"]
    argv += [] if json_to is None else ["--json", str(jsons[json_to])]
    for key, value in sets:
        argv += ["--set", f"{key}={value}"]
    code, err = _run(capsys, *argv)
    assert code in (0, 2), (argv, code, err)
    assert "Traceback" not in err, (argv, err)
