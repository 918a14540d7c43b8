"""Data-health summaries: exact values on a tiny log."""
from __future__ import annotations

import pandas as pd

import journeylib
from journeylib import plots
from journeylib.data import quality


def test_health_summaries_on_a_tiny_log(make_source):
    tp = ("account_id,timestamp,touchpoint,channel\nA1,2026-08-03,webinar,web\nA1,2026-10-01,demo,sales\n"
          "A2,2026-10-02,demo,\nA9,2026-10-02,demo,sales\nA2,2026-12-01,qbr,cs\nA3,2026-10-31,webinr,web\n")
    data = journeylib.load(make_source(touchpoints=tp), as_of="2026-10-31", freshness_days=1000)
    by_reason = quality.set_aside_by_reason(data.quarantine)
    assert by_reason.values.tolist() == [["touchpoints", "out_of_window", "out_of_window", 1],
                                         ["touchpoints", "unknown_account", "error", 1],
                                         ["touchpoints", "unmapped_touchpoint", "error", 1]]
    cov = quality.coverage_by_month(data.tables)
    tp_cov = cov[cov["table"] == "touchpoints"]
    assert tp_cov[["month", "rows"]].values.tolist() == [["2026-08", 1], ["2026-09", 0], ["2026-10", 2]]
    fresh = quality.freshness(data.tables, data.cutoff).set_index("table")
    assert fresh.loc["touchpoints", "days_before_as_of"] == 29  # last used touchpoint 2026-10-02, as_of 2026-10-31
    by_sc = quality.touchpoints_by_stage_channel(data.touchpoints)
    assert by_sc.values.tolist() == [["research", "web", 1], ["consideration", "(none)", 1],
                                     ["consideration", "sales", 1]]
    fig = plots.stage_channel_bar(by_sc, data.lifecycle.labels)
    assert [t.name for t in fig.data] == ["(none)", "sales", "web"]
    assert list(fig.data[1].x) == ["Research", "Consideration"] and list(fig.data[1].y) == [0, 1]


def test_empty_quarantine_and_empty_figure():
    empty = pd.DataFrame(columns=["table", "source", "row", "reasons", "message", "severity", "values"])
    assert quality.set_aside_by_reason(empty).empty
    fig = plots.empty_figure("Paths", "no accounts match this filter")
    assert fig.layout.annotations[0].text == "no accounts match this filter" and not fig.data
