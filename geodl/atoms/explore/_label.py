"""Reference labels for many frames: parallel over processes, resumable, failures recorded.

``label_structures(frames, "gfn2-xtb", "out.extxyz", workers=4)`` computes energy, forces
and (for frames periodic in all three directions, where the reference has it) stress of
every frame and writes them as extended XYZ with the keys ``geodl train`` reads
(``energy``, ``forces``, ``stress``). Files:

* ``OUT`` — the labelled frames, in input order (failed frames left out);
* ``OUT.failures.json`` — the run's record: reference, input fingerprint, counts, and one
  ``{"index", "formula", "reason"}`` per frame the reference could not label (an SCF that
  did not converge, an element the method lacks, a non-finite result);
* ``OUT.journal`` — while the run is under way: a header line and one JSON line per
  finished frame, flushed as it is written. A killed run (even ``kill -9``) resumes from
  it: finished frames are never labelled again, a half-written last line is dropped.
  Removed once ``OUT`` is complete.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from ase import Atoms

from geodl.atoms.ase import check_reference, reference_calculator
from geodl.errors import GeoDLError, InputError

__all__ = ["LabelFailure", "LabelReport", "input_frames", "label_frame", "label_structures"]

_JOURNAL_FORMAT = "geodl.label.journal"
#: keys of previous labels dropped from ``info`` / ``arrays`` of the frames written.
_LABEL_KEYS = ("energy", "free_energy", "forces", "stress", "energies", "stresses")


@dataclass
class LabelReport:
    """What :func:`label_structures` did.

    Attributes
    ----------
    out, failures_path : Path
        The labelled frames and the failure record.
    n_frames, n_labelled, n_failed : int
        Input frames, frames labelled, frames the reference failed on.
    n_resumed : int
        Frames already finished by an earlier (killed) run and not computed again.
    elapsed : float
        Seconds spent by this call.
    failures : list of dict
        ``{"index", "formula", "reason"}`` per failed frame.
    """

    out: Path
    failures_path: Path
    n_frames: int
    n_labelled: int
    n_failed: int
    n_resumed: int
    elapsed: float
    failures: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the terminal."""
        computed = self.n_frames - self.n_resumed
        rate = computed / self.elapsed if self.elapsed > 0 else float("nan")
        resumed = f", {self.n_resumed} resumed from the journal" if self.n_resumed else ""
        return (
            f"labelled {self.n_labelled} of {self.n_frames} frames ({self.n_failed} failed"
            f"{resumed}) in {self.elapsed:.1f} s ({rate:.3g} frames/s) -> {self.out}"
        )


class LabelFailure(Exception):
    """The reference could not label one frame; the message is the recorded reason."""


def label_frame(reference: str, atoms: Atoms, options: dict[str, Any] | None = None) -> dict:
    """Energy, forces and (periodic frames) stress of one frame from the reference.

    Returns ``{"energy": float, "forces": (N, 3) list, "stress": 6 list (optional)}``;
    raises :class:`LabelFailure` with the reason when the reference fails or returns a
    non-finite number (never a NaN label). Errors of the user's own factory
    (:class:`~geodl.errors.UserCodeError`) propagate.

    Examples
    --------
    >>> from ase.build import bulk
    >>> labels = label_frame("emt", bulk("Cu", cubic=True))
    >>> sorted(labels), len(labels["forces"])
    (['energy', 'forces', 'stress'], 4)
    """
    frame = Atoms(numbers=atoms.numbers, positions=atoms.positions, cell=atoms.cell, pbc=atoms.pbc)
    frame.info.update(atoms.info)
    try:
        frame.calc = reference_calculator(reference, atoms=frame, **(options or {}))
        energy = float(frame.get_potential_energy())
        forces = np.asarray(frame.get_forces(), dtype=float)
        stress = None
        if frame.pbc.all() and "stress" in getattr(frame.calc, "implemented_properties", ()):
            stress = np.asarray(frame.get_stress(voigt=True), dtype=float)
    except GeoDLError:
        raise
    except Exception as exc:  # any reference error is a per-frame failure, recorded
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise LabelFailure(f"{type(exc).__name__}: {message}"[:500]) from exc
    if not math.isfinite(energy) or not np.isfinite(forces).all():
        raise LabelFailure("the reference returned a non-finite energy or forces")
    if forces.shape != (len(atoms), 3):
        raise LabelFailure(f"the reference returned forces of shape {forces.shape}")
    labels: dict[str, Any] = {"energy": energy, "forces": forces.tolist()}
    if stress is not None:
        if not np.isfinite(stress).all():
            raise LabelFailure("the reference returned a non-finite stress")
        labels["stress"] = stress.tolist()
    return labels


def input_frames(source: str | os.PathLike[str] | Atoms | Sequence[Atoms]) -> list[Atoms]:
    """Frames to label: Atoms, a list of them, or a file / folder / ``bundled:NAME`` that
    :func:`geodl.atoms.data.read_frames` reads (extxyz, any ASE format, DeePMD, dpdata).

    Examples
    --------
    >>> len(input_frames("bundled:argon"))
    300
    """
    from geodl.atoms.data import read_frames

    if isinstance(source, Atoms):
        return [source]
    if isinstance(source, (str, os.PathLike)):
        try:
            frames = read_frames(source)[0]
        except ValueError as exc:
            raise InputError(f"--data: {exc}") from exc
    else:
        frames = list(source)
        if not all(isinstance(a, Atoms) for a in frames):
            raise InputError("frames: expected a file path or a list of ase.Atoms.")
    if not frames:
        raise InputError(f"{source}: no frames to label.")
    return frames


def _fingerprint(frames: Sequence[Atoms]) -> str:
    """SHA-256 of the numbers, positions, cells, pbc and info of every frame."""
    h = hashlib.sha256()
    for a in frames:
        for arr in (a.numbers, a.positions, a.cell.array, a.pbc):
            h.update(np.ascontiguousarray(arr).tobytes())
        info = {k: v for k, v in a.info.items() if k in ("charge", "spin", "multiplicity")}
        h.update(json.dumps(info, sort_keys=True, default=str).encode())
    return h.hexdigest()


def _header(reference: str, options: dict[str, Any], frames: Sequence[Atoms]) -> dict[str, Any]:
    return {
        "format": _JOURNAL_FORMAT,
        "version": 1,
        "reference": reference,
        "options": json.loads(json.dumps(options, default=str)),
        "input": _fingerprint(frames),
        "n_frames": len(frames),
    }


def _paths(out: Path) -> tuple[Path, Path]:
    return out.with_name(out.name + ".failures.json"), out.with_name(out.name + ".journal")


def _read_journal(path: Path, header: dict[str, Any]) -> dict[int, dict[str, Any]]:
    """Finished frames of a previous run; a torn last line is cut off the file."""
    done: dict[int, dict[str, Any]] = {}
    with open(path, "rb") as fh:
        raw = fh.read()
    lines = raw.split(b"\n")
    good = 0  # bytes of complete, parseable lines
    for k, line in enumerate(lines):
        if k == len(lines) - 1 and line == b"":
            break
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            break  # killed mid-write: drop this line and anything after it
        if k == 0:
            if rec.get("format") != _JOURNAL_FORMAT:
                raise InputError(f"{path}: not a geodl label journal; remove it.")
            differs = [key for key in ("reference", "options", "input") if rec[key] != header[key]]
            if differs:
                raise InputError(
                    f"{path}: an unfinished run with a different {', '.join(differs)} "
                    f"({', '.join(f'{k}={rec[k]!r}' for k in differs)}) left this journal. "
                    "Run that command again to finish it, or delete the journal to start over."
                )
        else:
            done[int(rec["index"])] = rec
        good += len(line) + 1
    if good < len(raw):
        with open(path, "r+b") as fh:
            fh.truncate(good)
    return done


def _finished_before(out: Path, failures_path: Path, header: dict[str, Any]) -> bool:
    if not out.exists():
        return False
    try:
        record = json.loads(failures_path.read_text())
    except (OSError, json.JSONDecodeError):
        record = {}
    if all(record.get(k) == header[k] for k in ("reference", "options", "input")):
        return True
    raise InputError(
        f"{out} exists and was not written by labelling this input with {header['reference']!r}"
        f" (see {failures_path.name}); remove it or choose another --out."
    )


def _tasks(
    frames: Sequence[Atoms], todo: Sequence[int], reference: str, options: dict, workers: int
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(index, record)`` as frames finish (any order when ``workers > 1``)."""
    if workers <= 1:
        for i in todo:
            yield i, _record(reference, frames[i], options)
        return
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    # Workers fork from a server that imported geodl once (never from this possibly
    # threaded process); spawn where there is no forkserver.
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    if ctx.get_start_method() == "forkserver":
        ctx.set_forkserver_preload([__name__])
    with ProcessPoolExecutor(
        workers, mp_context=ctx, initializer=_init_worker, initargs=(os.getpid(),)
    ) as pool:
        pending: dict[Any, int] = {}
        queue = iter(todo)
        for i in queue:
            pending[pool.submit(_record, reference, frames[i], options)] = i
            if len(pending) >= 4 * workers:
                break
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                i = pending.pop(fut)
                yield i, fut.result()
                nxt = next(queue, None)
                if nxt is not None:
                    pending[pool.submit(_record, reference, frames[nxt], options)] = nxt


def _init_worker(parent: int) -> None:
    # one thread per worker process: the processes are the parallelism
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = "1"
    import threading

    def watch() -> None:  # a killed parent (kill -9) takes its workers with it
        while True:
            time.sleep(1.0)
            try:
                os.kill(parent, 0)
            except OSError:
                os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _record(reference: str, atoms: Atoms, options: dict[str, Any]) -> dict[str, Any]:
    try:
        return label_frame(reference, atoms, options)
    except LabelFailure as exc:
        return {"failure": str(exc)}


def label_structures(
    frames: str | os.PathLike[str] | Sequence[Atoms],
    reference: str,
    out: str | os.PathLike[str],
    *,
    workers: int = 1,
    options: dict[str, Any] | None = None,
    progress: bool | None = None,
    log: Callable[[str], None] | None = None,
) -> LabelReport:
    """Label every frame with ``reference``; resumable (see the module docstring).

    Parameters
    ----------
    frames : path or list of ase.Atoms
        The structures (their own labels, if any, are replaced).
    reference : str
        A name of :func:`geodl.atoms.ase.reference_names` (``emt``, ``gfn2-xtb``,
        ``pyscf:pbe/def2-svp``, ``my_module:factory``...).
    out : path
        Output extended XYZ file.
    workers : int
        Processes labelling frames in parallel (1: in this process).
    options : dict
        Options of the reference calculator (:data:`geodl.atoms.ase.REFERENCE_OPTIONS`).
    progress : bool or None
        tqdm bar with frames/s and ETA; ``None``: only on a terminal.
    log : callable
        Where the summary line goes (``print``).

    Examples
    --------
    >>> import tempfile, ase.io
    >>> from ase.build import bulk
    >>> frames = [bulk("Cu", cubic=True), bulk("Fe", cubic=True)]  # EMT has no Fe
    >>> out = tempfile.mkdtemp() + "/labelled.extxyz"
    >>> report = label_structures(frames, "emt", out, progress=False, log=lambda s: None)
    >>> report.n_labelled, report.failures[0]["reason"]
    (1, 'NotImplementedError: No EMT-potential for Fe')
    >>> round(float(ase.io.read(out).get_potential_energy()), 3)
    -0.023
    """
    t0 = time.perf_counter()
    log = log or print
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise InputError(f"--workers must be a positive integer, got {workers!r}.")
    options = dict(options or {})
    reference = check_reference(reference, options)
    frames = input_frames(frames)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    failures_path, journal_path = _paths(out)
    header = _header(reference, options, frames)
    if not journal_path.exists() and _finished_before(out, failures_path, header):
        record = json.loads(failures_path.read_text())
        log(f"{out} is complete ({record['n_labelled']} frames labelled); nothing to do.")
        labelled_n, failures, n_resumed = record["n_labelled"], record["failures"], len(frames)
    else:
        done = _read_journal(journal_path, header) if journal_path.exists() else {}
        n_resumed = len(done)
        todo = [i for i in range(len(frames)) if i not in done]
        _run(frames, todo, reference, options, workers, journal_path, header, done, progress)
        labelled, failures = _assemble(frames, done)
        _write_outputs(out, failures_path, labelled, failures, header)
        journal_path.unlink()
        labelled_n = len(labelled)
    report = LabelReport(
        out,
        failures_path,
        len(frames),
        labelled_n,
        len(failures),
        n_resumed,
        time.perf_counter() - t0,
        failures,
    )
    if n_resumed < len(frames):
        log(report.summary())
    return report


def _run(
    frames: Sequence[Atoms],
    todo: Sequence[int],
    reference: str,
    options: dict[str, Any],
    workers: int,
    journal_path: Path,
    header: dict[str, Any],
    done: dict[int, dict[str, Any]],
    progress: bool | None,
) -> None:
    from tqdm.auto import tqdm

    new = not journal_path.exists()
    bar = tqdm(
        total=len(frames),
        initial=len(frames) - len(todo),
        unit="frame",
        desc=f"labelling ({reference})",
        disable=(not sys.stderr.isatty()) if progress is None else not progress,
        file=sys.stderr,
        smoothing=0.1,
    )
    with open(journal_path, "a", encoding="utf-8") as journal:
        if new:
            journal.write(json.dumps(header) + "\n")
            journal.flush()
        n_failed = sum("failure" in r for r in done.values())
        for i, rec in _tasks(frames, todo, reference, options, min(workers, max(len(todo), 1))):
            rec = {"index": i, **rec}
            # one write per frame, flushed: a kill leaves at most a torn last line
            journal.write(json.dumps(rec) + "\n")
            journal.flush()
            done[i] = rec
            n_failed += "failure" in rec
            bar.set_postfix(failed=n_failed, refresh=False)
            bar.update(1)
    bar.close()


def _assemble(
    frames: Sequence[Atoms], done: dict[int, dict[str, Any]]
) -> tuple[list[Atoms], list[dict[str, Any]]]:
    from ase.calculators.singlepoint import SinglePointCalculator

    labelled, failures = [], []
    for i, atoms in enumerate(frames):
        rec = done[i]
        if "failure" in rec:
            formula = atoms.get_chemical_formula()
            failures.append({"index": i, "formula": formula, "reason": rec["failure"]})
            continue
        frame = Atoms(
            numbers=atoms.numbers, positions=atoms.positions, cell=atoms.cell, pbc=atoms.pbc
        )
        frame.info.update({k: v for k, v in atoms.info.items() if k not in _LABEL_KEYS})
        frame.info["source_index"] = i
        results = {"energy": rec["energy"], "forces": np.asarray(rec["forces"])}
        if "stress" in rec:
            results["stress"] = np.asarray(rec["stress"])
        frame.calc = SinglePointCalculator(frame, **results)
        labelled.append(frame)
    return labelled, failures


def _write_outputs(
    out: Path,
    failures_path: Path,
    labelled: list[Atoms],
    failures: list[dict[str, Any]],
    header: dict[str, Any],
) -> None:
    import ase.io

    tmp = out.with_name(out.name + f".{os.getpid()}.tmp")
    if labelled:
        ase.io.write(str(tmp), labelled, format="extxyz")
    else:
        tmp.write_text("")
    record = {
        "reference": header["reference"],
        "options": header["options"],
        "input": header["input"],
        "n_frames": header["n_frames"],
        "n_labelled": len(labelled),
        "n_failed": len(failures),
        "failures": failures,
    }
    tmp_f = failures_path.with_name(failures_path.name + f".{os.getpid()}.tmp")
    tmp_f.write_text(json.dumps(record, indent=1) + "\n")
    os.replace(tmp, out)
    os.replace(tmp_f, failures_path)
