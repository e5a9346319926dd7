"""Exceptions shared by every layer, and the exit codes the command line maps them to.

=====  ===============================================================================
code   meaning
=====  ===============================================================================
0      success
1      a check found a symmetry broken, or a test missed its threshold
2      usage or input error (bad option, bad file, bad value): :class:`InputError`,
       and ``ValueError`` / ``TypeError`` / ``OSError`` raised at a boundary; a feature
       whose optional dependencies are not installed: :class:`MissingExtraError`
3      the user's own code (a model, a factory, a calculator) raised: :class:`UserCodeError`
4      internal error (a bug in geodl): anything else
=====  ===============================================================================
"""

from __future__ import annotations

__all__ = [
    "EXIT_BROKEN",
    "EXIT_INPUT",
    "EXIT_INTERNAL",
    "EXIT_OK",
    "EXIT_USER_CODE",
    "GeoDLError",
    "InputError",
    "MissingExtraError",
    "UserCodeError",
]

EXIT_OK = 0
EXIT_BROKEN = 1
EXIT_INPUT = 2
EXIT_USER_CODE = 3
EXIT_INTERNAL = 4


class GeoDLError(Exception):
    """Base class of geodl's own exceptions."""


class InputError(GeoDLError, ValueError):
    """A user input (option, file, value) is invalid; the message says what to do.

    A ``ValueError``, so code that catches ``ValueError`` keeps working.

    Examples
    --------
    >>> isinstance(InputError("bad"), ValueError)
    True
    """


class UserCodeError(GeoDLError):
    """The user's code raised while geodl called it; ``__cause__`` holds the original.

    Parameters
    ----------
    what : str
        What geodl was calling (``"the model"``, ``"factory 'm:f'"``, ...).
    error : BaseException
        The exception it raised.

    Examples
    --------
    >>> err = UserCodeError("the model", ZeroDivisionError("division by zero"))
    >>> str(err)
    'the model raised ZeroDivisionError: division by zero'
    """

    def __init__(self, what: str, error: BaseException) -> None:
        super().__init__(f"{what} raised {type(error).__name__}: {error}")
        self.what = what
        self.error = error
        self.__cause__ = error


class MissingExtraError(GeoDLError, ImportError):
    """A feature needs an optional dependency group (an "extra") that is not installed.

    An ``ImportError`` whose message names the extra and the command that installs it.

    Examples
    --------
    >>> err = MissingExtraError("geodl.atoms", "atoms", ["ase"])
    >>> print(err)
    geodl.atoms needs ... the 'atoms' extra (missing: ase); install ...: pip install 'geodl[atoms]'
    >>> isinstance(err, ImportError)
    True
    """

    def __init__(self, feature: str, extra: str, missing: list[str]) -> None:
        super().__init__(
            f"{feature} needs the optional dependencies of the {extra!r} extra (missing: "
            f"{', '.join(missing)}); install them with: pip install 'geodl[{extra}]'"
        )
        self.feature = feature
        self.extra = extra
        self.missing = list(missing)
