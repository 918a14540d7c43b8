"""journeylib.checks: one place for parameter checks, one message form (name, value received, what is allowed)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from journeylib.checks import (check_bool, check_choice, check_date, check_days, check_int, check_names, check_number,
                               check_share)
from journeylib.errors import ParameterError


@pytest.mark.parametrize("call, message", [
    (lambda: check_bool(1, "collapse"), "collapse must be True or False; got 1"),
    (lambda: check_bool("yes", "collapse"), "collapse must be True or False; got 'yes'"),
    (lambda: check_int(0, "min_accounts", minimum=1), "min_accounts must be a whole number >= 1; got 0"),
    (lambda: check_int(True, "top", minimum=1), "top must be a whole number >= 1; got True"),
    (lambda: check_int(2.5, "top", minimum=1, none=True), "top must be a whole number >= 1 or None; got 2.5"),
    (lambda: check_int(13, "month", minimum=1, maximum=12), "month must be a whole number >= 1 and <= 12; got 13"),
    (lambda: check_days(-1, "lookback_days"), "lookback_days must be a number of days >= 0; got -1"),
    (lambda: check_days(float("nan"), "lookback_days"), "lookback_days must be a number of days >= 0; got nan"),
    (lambda: check_days("90", "dormant_days"), "dormant_days must be a number of days >= 0; got '90'"),
    (lambda: check_days(0, "horizon_days", minimum=1, whole=True),
     "horizon_days must be a whole number of days >= 1; got 0"),
    (lambda: check_number(0, "alpha", minimum=0, maximum=1, low_open=True, high_open=True, what="a level"),
     "alpha must be a level > 0 and < 1; got 0"),
    (lambda: check_share(1.5, "threshold", high_open=True), r"threshold must be a share in \[0, 1\); got 1.5"),
    (lambda: check_share(0, "share", low_open=True), r"share must be a share in \(0, 1\]; got 0"),
    (lambda: check_choice("gmb", "model", ["gbm", "logistic"]),
     r"model must be one of gbm, logistic; got 'gmb' \(did you mean 'gbm'\?\)"),
    (lambda: check_choice(None, "model", ["gbm"]), "model must be one of gbm; got None"),
    (lambda: check_date("soon", "as_of"), r"as_of 'soon' is not a date or timestamp \(e.g. '2026-10-31'\)"),
    (lambda: check_date("", "start"), "start is missing; give a date such as '2026-10-31'"),
    (lambda: check_names([], "channel"), "channel is an empty list; give at least one value, or None for all"),
    (lambda: check_names(3, "channel"), "channel must be a string or a list of strings; got 3"),
])
def test_a_failed_check_names_the_argument_the_value_and_what_is_allowed(call, message):
    with pytest.raises(ParameterError, match=message):
        call()


def test_checks_return_the_value_in_its_canonical_type():
    assert check_bool(np.bool_(True), "x") is True
    assert check_int(np.int64(3), "x") == 3 and type(check_int(30.0, "x")) is int
    assert check_int(None, "x", none=True) is None
    assert check_days(2.5, "x") == 2.5 and check_days(7, "x", whole=True) == 7
    assert check_share(1, "x") == 1.0 and check_number(np.float32(0.5), "x") == 0.5
    assert check_choice("gbm", "model", ("gbm",)) == "gbm"
    assert check_date("2026-10-31", "as_of") == pd.Timestamp("2026-10-31")
    assert check_names("web", "channel") == ["web"] and check_names(None, "channel") is None
    assert check_names(("a", 1), "channel") == ["a", "1"]


def test_an_empty_parameter_is_not_given():
    from journeylib.checks import given

    assert [given(v) for v in (None, "", "   ")] == [None, None, None]
    assert [given(v) for v in ("data/x", 0, False)] == ["data/x", 0, False]
