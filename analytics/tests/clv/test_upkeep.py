"""lifetimes 0.11.3 is unmaintained (last release July 2020): the stack it runs
on stays pinned exactly, the venv holds those versions, and it fits and
predicts on CDNOW without a single warning, so the first deprecation a
numpy, scipy or pandas bump brings fails here, before it breaks (docs/decisions.md,
"lifetimes' upkeep")."""

from __future__ import annotations

import re
import warnings
from importlib import metadata
from pathlib import Path

import numpy as np

from analytics.selectors import clv_model as cm
from analytics.tests.clv.test_cdnow import CAL_END, _rows

REQUIREMENTS = Path(__file__).resolve().parents[3] / "requirements.txt"
# lifetimes and what it imports (its own requirements have no upper bounds).
STACK = ("lifetimes", "numpy", "scipy", "pandas", "autograd", "dill")
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)\s*(==|>=|<=|~=|<|>|!=)?\s*([^\s#;]*)")


def _pins() -> dict[str, tuple[str, str]]:
    pins = {}
    for line in REQUIREMENTS.read_text().splitlines():
        found = PIN.match(line.strip())
        if found and not line.strip().startswith("#"):
            name, op, version = found.groups()
            pins[name.lower()] = (op or "", version)
    return pins


def test_requirements_pin_the_lifetimes_stack_exactly():
    pins = _pins()
    loose = {name: pins.get(name) for name in STACK if pins.get(name, ("",))[0] != "=="}
    assert loose == {}, "pin these with == (docs/decisions.md, lifetimes' upkeep)"
    assert pins["lifetimes"] == ("==", "0.11.3")
    # The majors lifetimes is known to work on; a new major is a decision.
    assert pins["numpy"][1].split(".")[0] == "2"
    assert pins["pandas"][1].split(".")[0] == "3"
    assert pins["scipy"][1].split(".")[0] == "1"


def test_the_venv_holds_the_pinned_versions():
    pins = _pins()
    installed = {name: metadata.version(name) for name in STACK}
    assert installed == {name: pins[name][1] for name in STACK}


def test_lifetimes_fits_and_predicts_without_a_warning():
    # Imported before recording: its one known warning (a Pandas4Warning for
    # setting pandas' mode.chained_assignment) is given at import.
    from lifetimes import BetaGeoFitter, GammaGammaFitter

    summary = cm.summarize(_rows(), end=CAL_END)
    x, t_x, T = (
        np.asarray(v, dtype=float) for v in (summary.x, summary.t_x, summary.T)
    )
    z = np.asarray(summary.mean_repeat_spend, dtype=float)
    keep = (x > 0) & (z > 0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bgnbd = BetaGeoFitter(penalizer_coef=0.0).fit(x, t_x, T)
        expected = bgnbd.conditional_expected_number_of_purchases_up_to_time(
            39, x, t_x, T
        )
        alive = bgnbd.conditional_probability_alive(x, t_x, T)
        spend = GammaGammaFitter(penalizer_coef=0.0).fit(x[keep], z[keep])
    assert [(w.category.__name__, str(w.message)) for w in caught] == []
    assert round(float(bgnbd.params_["a"]), 3) == 0.793
    assert round(float(np.sum(expected))) == 1653
    assert 0 < float(np.mean(alive)) < 1
    assert round(float(spend.params_["p"]), 2) == 6.25
