"""What every subcommand shares: checked options, JSON output, loading the user's code, and
the one place where an exception becomes an exit code. (Loading the user's TARGET,
shared by ``check`` and ``audit``, lives in :mod:`geodl.cli.check`.)

Exit codes (the same for every command; see ``docs/cli.md``):

=====  ===============================================================================
code   meaning
=====  ===============================================================================
0      success
1      a check found a symmetry broken, or a test missed its threshold
2      usage or input error: a bad option, file or value (:class:`geodl.errors.InputError`,
       ``ValueError``, ``TypeError``, ``OSError``), a missing extra (``MissingExtraError``)
3      the user's own code (a model, a factory) raised (:class:`geodl.errors.UserCodeError`)
4      internal error: a bug in geodl (anything else); rerun with ``--debug`` and report it
130    interrupted (Ctrl-C)
=====  ===============================================================================

Without ``--debug`` an error is one line on stderr, ``geodl COMMAND: error: MESSAGE``;
with ``--debug`` the full traceback comes first.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from geodl.errors import (
    EXIT_BROKEN,
    EXIT_INPUT,
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_USER_CODE,
    InputError,
    MissingExtraError,
    UserCodeError,
)

__all__ = [
    "EXIT_BROKEN",
    "EXIT_INPUT",
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USER_CODE",
    "MAX_SEED",
    "Check",
    "add_checked",
    "add_debug_option",
    "add_json_option",
    "add_model_option",
    "add_seed_option",
    "check_device",
    "check_input_file",
    "check_number",
    "check_output_dir",
    "check_output_file",
    "check_threads",
    "exit_code",
    "non_negative_float",
    "positive_float",
    "positive_int",
    "parse_set_options",
    "run_command",
    "run_checks",
    "seed_value",
    "write_json",
]

EXIT_INTERRUPTED = 130
#: seeds go to numpy's legacy RandomState and scikit-learn too, which take 32 bits
MAX_SEED = 2**31 - 1

#: ``check(value, option) -> value``: validates one parsed option (raises InputError)
Check = Callable[[Any, str], Any]


# --------------------------------------------------------------------------- errors
def exit_code(exc: BaseException) -> int:
    """The exit code of an exception that reached the command line.

    Examples
    --------
    >>> exit_code(InputError("x")), exit_code(OSError("x")), exit_code(KeyError("x"))
    (2, 2, 4)
    >>> exit_code(UserCodeError("the model", RuntimeError("boom")))
    3
    """
    if isinstance(exc, UserCodeError):
        return EXIT_USER_CODE
    # InputError is a ValueError; a missing optional dependency is the user's to install
    if isinstance(exc, (ValueError, TypeError, OSError, MissingExtraError)):
        return EXIT_INPUT
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    return EXIT_INTERNAL


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror and exc.filename is not None:
        return f"{exc.strerror}: {os.fspath(exc.filename)!r}"
    return str(exc) or type(exc).__name__


def run_command(command: str, func: Callable[[], int | None], *, debug: bool = False) -> int:
    """Call ``func`` and turn what it raises into an exit code and one line on stderr.

    Examples
    --------
    >>> def bad() -> int:
    ...     raise InputError("--samples must be >= 1, got 0.")
    >>> import contextlib, io
    >>> err = io.StringIO()
    >>> with contextlib.redirect_stderr(err):
    ...     code = run_command("check", bad)
    >>> code, err.getvalue()
    (2, 'geodl check: error: --samples must be >= 1, got 0.\\n')
    """
    try:
        return int(func() or 0)
    except (Exception, KeyboardInterrupt) as exc:
        code = exit_code(exc)
        if debug:
            traceback.print_exc(file=sys.stderr)
        prefix = f"geodl {command}"
        if code == EXIT_INTERRUPTED:
            sys.stderr.write(f"{prefix}: interrupted.\n")
        elif code == EXIT_INTERNAL:
            sys.stderr.write(
                f"{prefix}: internal error: {type(exc).__name__}: {_describe(exc)}\n"
                "This is a bug in geodl: rerun with --debug and report it with the "
                "traceback.\n"
            )
        else:
            hint = (
                "" if debug or code != EXIT_USER_CODE else " (rerun with --debug for the traceback)"
            )
            sys.stderr.write(f"{prefix}: error: {_describe(exc)}{hint}\n")
        return code


def add_debug_option(parser: argparse.ArgumentParser, *, top: bool = False) -> None:
    """``--debug``: print the full traceback of an error. Accepted before and after the
    subcommand (``geodl --debug check ...`` and ``geodl check ... --debug``)."""
    parser.add_argument(
        "--debug",
        action="store_true",
        default=False if top else argparse.SUPPRESS,
        help="on an error, print the full traceback (for bug reports)",
    )


# --------------------------------------------------------------------------- checks
def add_checked(
    parser: argparse.ArgumentParser, *flags: str, check: Check, **kwargs: Any
) -> argparse.Action:
    """``parser.add_argument`` plus a check run on the parsed value by :func:`run_checks`.

    Checks run inside :func:`run_command`, so a bad value is one line and exit code 2.
    """
    action = parser.add_argument(*flags, **kwargs)
    name = action.option_strings[0] if action.option_strings else (action.metavar or action.dest)
    checks = list(parser.get_default("_checks") or [])
    parser.set_defaults(_checks=[*checks, (action.dest, str(name), check)])
    return action


def run_checks(args: argparse.Namespace) -> None:
    """Run the checks registered by :func:`add_checked`; each may normalise its value."""
    for dest, name, check in getattr(args, "_checks", []):
        value = getattr(args, dest, None)
        if value is not None:
            setattr(args, dest, check(value, name))


def check_number(
    value: Any,
    option: str,
    *,
    minimum: float | None = None,
    exclusive: bool = False,
    integer: bool = False,
    maximum: float | None = None,
) -> Any:
    """``value`` if it is a finite number in range, else :class:`InputError` naming ``option``.

    Examples
    --------
    >>> check_number(3, "--samples", minimum=1, integer=True)
    3
    >>> check_number(float("nan"), "--max-time", minimum=0, exclusive=True)
    Traceback (most recent call last):
    ...
    geodl.errors.InputError: --max-time must be > 0 (a finite number), got nan.
    """
    kind = "an integer" if integer else "a finite number"
    bounds = []
    if minimum is not None:
        bounds.append(f"{'>' if exclusive else '>='} {minimum:g}")
    if maximum is not None:
        bounds.append(f"<= {maximum:g}")
    expected = (
        f"{option} must be {' and '.join(bounds)} ({kind})"
        if bounds
        else f"{option} must be {kind}"
    )
    ok_type = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok_type or not math.isfinite(value):
        raise InputError(f"{expected}, got {value!r}.")
    too_low = minimum is not None and (value <= minimum if exclusive else value < minimum)
    if too_low or (maximum is not None and value > maximum):
        raise InputError(f"{expected}, got {value!r}.")
    return value


def positive_int(value: Any, option: str) -> int:
    """A check for :func:`add_checked`: an integer >= 1."""
    return int(check_number(value, option, minimum=1, integer=True))


def positive_float(value: Any, option: str) -> float:
    """A check for :func:`add_checked`: a finite number > 0."""
    return float(check_number(value, option, minimum=0, exclusive=True))


def non_negative_float(value: Any, option: str) -> float:
    """A check for :func:`add_checked`: a finite number >= 0."""
    return float(check_number(value, option, minimum=0))


def seed_value(value: Any, option: str) -> int:
    """A check for :func:`add_checked`: a seed, ``0 <= seed <= MAX_SEED``."""
    return int(check_number(value, option, minimum=0, maximum=MAX_SEED, integer=True))


def check_threads(value: Any, option: str) -> int:
    """A thread count: an integer >= 0, where 0 keeps torch's default.

    Examples
    --------
    >>> check_threads(-2, "training.num_threads")
    Traceback (most recent call last):
    ...
    geodl.errors.InputError: training.num_threads must be >= 0 (an integer), got -2. ...
    """
    try:
        return int(check_number(value, option, minimum=0, integer=True))
    except InputError as exc:
        raise InputError(
            f"{exc} Give a thread count such as 1 or 2 (0: torch's default)."
        ) from None


def check_device(value: Any, option: str) -> str:
    """A torch device this machine has: ``auto``, ``cpu``, ``cuda``, ``cuda:N``, ``mps``.

    Examples
    --------
    >>> check_device("cpu", "training.device")
    'cpu'
    >>> check_device("gpu", "training.device")
    Traceback (most recent call last):
    ...
    geodl.errors.InputError: training.device: 'gpu' is not a torch device; ...
    """
    import torch

    if value == "auto":
        return "auto"
    try:
        device = torch.device(value)
    except (RuntimeError, TypeError, ValueError):
        raise InputError(
            f"{option}: {value!r} is not a torch device; use auto, cpu, cuda, cuda:N or mps."
        ) from None
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise InputError(
                f"{option}: {value!r} asks for CUDA, but this torch ({torch.__version__}) sees "
                "no CUDA device; use cpu or auto (auto picks CUDA when there is one)."
            )
        if device.index is not None and device.index >= count:
            raise InputError(
                f"{option}: {value!r} but this machine has {count} CUDA device(s) "
                f"(cuda:0 ... cuda:{count - 1})."
            )
    elif device.type == "mps" and not torch.backends.mps.is_available():
        raise InputError(f"{option}: 'mps' is not available here; use cpu or auto.")
    elif device.type not in ("cpu", "cuda", "mps"):
        raise InputError(
            f"{option}: device type {device.type!r} is not supported; use cpu or auto."
        )
    return str(value)


def _first_existing(path: Path) -> Path:
    for parent in [path, *path.parents]:
        if parent.exists():
            return parent
    return Path(".")


def check_output_dir(value: Any, option: str) -> Path:
    """A directory geodl can create or write into.

    Examples
    --------
    >>> import tempfile
    >>> f = Path(tempfile.mkdtemp()) / "file.txt"; _ = f.write_text("x")
    >>> check_output_dir(f / "run", "--out")
    Traceback (most recent call last):
    ...
    geodl.errors.InputError: --out: cannot create the directory '.../file.txt/run': ...
    """
    path = Path(value)
    base = _first_existing(path)
    if not base.is_dir():
        if base == path:
            raise InputError(f"{option}: {str(path)!r} is a file; choose a directory.")
        raise InputError(
            f"{option}: cannot create the directory {str(path)!r}: {str(base)!r} is a file. "
            "Choose a path that is not under a file."
        )
    _check_writable(base, option)
    return path


def _check_writable(directory: Path, option: str) -> None:
    if not os.access(directory, os.W_OK | os.X_OK):
        raise InputError(
            f"{option}: cannot write into {str(directory)!r} (permission denied); choose a "
            "writable directory."
        )


def check_output_file(value: Any, option: str) -> Path:
    """A file path geodl can write (its directory is created if needed).

    Examples
    --------
    >>> import tempfile
    >>> check_output_file(tempfile.mkdtemp(), "--json")
    Traceback (most recent call last):
    ...
    geodl.errors.InputError: --json: '...' is a directory; give a file name such as out.json.
    """
    path = Path(value)
    if path.is_dir():
        raise InputError(
            f"{option}: {str(path)!r} is a directory; give a file name such as out.json."
        )
    if path.exists() and not os.access(path, os.W_OK):
        raise InputError(f"{option}: {str(path)!r} is not writable; choose another file.")
    base = _first_existing(path.parent)
    if not base.is_dir():
        raise InputError(
            f"{option}: cannot write {str(path)!r}: {str(base)!r} is a file, not a directory. "
            "Choose a path that is not under a file."
        )
    _check_writable(base, option)
    return path


def check_input_file(value: Any, option: str, hint: str = "") -> Path:
    """An existing, readable file."""
    path = Path(value)
    if not path.is_file():
        what = f"{str(path)!r} is a directory" if path.is_dir() else f"no such file {str(path)!r}"
        raise InputError(f"{option}: {what}{'; ' + hint if hint else '.'}")
    if not os.access(path, os.R_OK):
        raise InputError(f"{option}: {str(path)!r} is not readable (permission denied).")
    return path


# --------------------------------------------------------------------------- shared options
def add_json_option(parser: argparse.ArgumentParser, help: str) -> None:
    """``--json FILE``, checked before the command runs (no work lost to a bad path)."""
    add_checked(
        parser,
        "--json",
        type=Path,
        default=None,
        metavar="FILE",
        help=help,
        check=check_output_file,
    )


def _model_file(value: object, option: str) -> Path:
    return check_input_file(value, option, "pass RUN/model.pt of a geodl train run.")


def add_model_option(
    parser: argparse.ArgumentParser,
    help: str = "model file written by geodl train (RUN/model.pt)",
) -> None:
    """``--model FILE`` (required): an existing model file, checked before the command
    runs; a bad path exits 2 naming the option."""
    add_checked(
        parser,
        "--model",
        type=Path,
        required=True,
        metavar="MODEL",
        help=help,
        check=_model_file,
    )


def add_seed_option(parser: argparse.ArgumentParser, help: str) -> None:
    """``--seed S``: an integer in ``0 ... MAX_SEED``, default 0."""
    add_checked(parser, "--seed", type=int, default=0, help=help, check=seed_value)


def parse_set_options(pairs: Sequence[str], option: str = "--set") -> dict[str, Any]:
    """Turn ``["a=1", "b=x"]`` into ``{"a": 1, "b": "x"}`` (values parsed as JSON).

    Examples
    --------
    >>> parse_set_options(["epochs=3", "name=cnn", "sizes=[1, 2]"])
    {'epochs': 3, 'name': 'cnn', 'sizes': [1, 2]}
    """
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InputError(f"{option} expects KEY=VALUE (e.g. {option} epochs=10), got {pair!r}.")
        try:
            options[key.strip().replace("-", "_")] = json.loads(value)
        except json.JSONDecodeError:
            options[key.strip().replace("-", "_")] = value
    return options


def write_json(path: Path, payload: Any, option: str = "--json") -> None:
    """Write ``payload`` as indented JSON; an unwritable path is an :class:`InputError`."""
    try:
        text = json.dumps(payload, indent=2, allow_nan=True) + "\n"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    except OSError as exc:
        raise InputError(
            f"{option}: cannot write {str(path)!r} ({exc.strerror or exc}); choose a writable file."
        ) from exc
