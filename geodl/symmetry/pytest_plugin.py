"""pytest plugin of geodl (registered through the ``pytest11`` entry point).

Provides the ``symmetry`` fixture and the ``symmetry`` marker::

    def test_my_model(symmetry):
        symmetry.assert_invariant(model, "E3", x)
        symmetry.assert_equivariant(model, "SO3", x, "per-point:vector")

The fixture is a :class:`SymmetryFixture`; each method forwards to the function of the
same name in :mod:`geodl.symmetry` with a fixed seed, so failures are reproducible. A
check that compared nothing (verdict ``"vacuous"``: empty or constant output, no tested
element, an input fixed by the group) fails the test unless ``allow_vacuous=True``.
This module imports nothing heavy: it is loaded in every pytest run.
"""

from __future__ import annotations

from typing import Any

import pytest


class SymmetryFixture:
    """The object behind the ``symmetry`` fixture (methods of :mod:`geodl.symmetry`).

    Parameters
    ----------
    seed : int
        Seed of the sampled group elements (default 0).
    """

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self.reports: list[Any] = []

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        import geodl.symmetry as sym

        if name not in ("audit", "get_group", "check_calculator"):
            kwargs.setdefault("seed", self.seed)
        allow_vacuous = kwargs.pop("allow_vacuous", False)
        if name.startswith("assert_") and name != "assert_declarations":
            kwargs["allow_vacuous"] = allow_vacuous
        result = getattr(sym, name)(*args, **kwargs)
        reports = list(result) if name == "audit" else [result]
        for r in reports:
            if hasattr(r, "verdict"):
                self.reports.append(r)
                if r.verdict == "vacuous" and not allow_vacuous:
                    pytest.fail(
                        f"the symmetry check compared nothing (verdict 'vacuous'): {r.summary()}\n"
                        f"{'; '.join(r.warnings)}\nUse a generic input and a non-constant output, "
                        "or pass allow_vacuous=True.",
                        pytrace=False,
                    )
        return result

    def assert_invariant(self, model: Any, group: Any, inputs: Any, **kwargs: Any) -> Any:
        """Assert ``model(g x) == model(x)`` (see :func:`geodl.symmetry.assert_invariant`)."""
        __tracebackhide__ = True
        return self._call("assert_invariant", model, group, inputs, **kwargs)

    def assert_equivariant(
        self, model: Any, group: Any, inputs: Any, out_rep: Any = "equivariant", **kwargs: Any
    ) -> Any:
        """Assert ``model(g x) == rho(g) model(x)``."""
        __tracebackhide__ = True
        return self._call("assert_equivariant", model, group, inputs, out_rep, **kwargs)

    def assert_forces(self, model: Any, group: Any, inputs: Any, **kwargs: Any) -> Any:
        """Assert that ``-dE/dx`` of an energy model is equivariant (exactly)."""
        __tracebackhide__ = True
        report = self._call("check_forces", model, group, inputs, **kwargs)
        if report.verdict != "exact":
            raise AssertionError(f"forces are not equivariant:\n{report}")
        return report

    def assert_declarations(self, model: Any, inputs: Any, **kwargs: Any) -> Any:
        """Assert every ``Declaration`` of ``model.declared_symmetries()`` is measured."""
        __tracebackhide__ = True
        return self._call("assert_declarations", model, inputs, **kwargs)

    def check_invariance(self, model: Any, group: Any, inputs: Any, **kwargs: Any) -> Any:
        """Report of :func:`geodl.symmetry.check_invariance`."""
        return self._call("check_invariance", model, group, inputs, **kwargs)

    def check_equivariance(self, model: Any, group: Any, inputs: Any, **kwargs: Any) -> Any:
        """Report of :func:`geodl.symmetry.check_equivariance`."""
        return self._call("check_equivariance", model, group, inputs, **kwargs)

    def check_forces(self, model: Any, group: Any, inputs: Any, **kwargs: Any) -> Any:
        """Report of :func:`geodl.symmetry.check_forces`."""
        return self._call("check_forces", model, group, inputs, **kwargs)

    def audit(self, model: Any, input_spec: Any, out_rep: str = "invariant", **kwargs: Any) -> Any:
        """:func:`geodl.symmetry.audit` (table + JSON of every group)."""
        kwargs.setdefault("seed", self.seed)
        return self._call("audit", model, input_spec, out_rep, **kwargs)

    def check_calculator(self, calc: Any, atoms: Any, **kwargs: Any) -> Any:
        """Report of :func:`geodl.symmetry.check_calculator` (energy, forces, stress)."""
        return self._call("check_calculator", calc, atoms, **kwargs)

    def get_group(self, name: str) -> Any:
        """:func:`geodl.symmetry.get_group`."""
        return self._call("get_group", name)

    def __repr__(self) -> str:
        return f"SymmetryFixture(seed={self.seed}, reports={len(self.reports)})"


@pytest.fixture
def symmetry() -> SymmetryFixture:
    """geodl's symmetry harness: ``symmetry.assert_invariant(model, "E3", x)``."""
    return SymmetryFixture()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "symmetry(group): a symmetry test of geodl.symmetry (informational, for selection)",
    )
