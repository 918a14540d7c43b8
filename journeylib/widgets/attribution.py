"""Interactive attribution views: drill from channel to campaign to account, and the lift model's what-if.

Every control mirrors a notebook parameter (``drill_channel``, ``drill_campaign``, ``account``;
``what_if_channel``, ``what_if_scale``); the widgets only redraw for other values in JupyterLab.
:func:`drill_down` and :func:`what_if_sentence` are the plain functions behind them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets
import numpy as np
import pandas as pd
from IPython import get_ipython
from IPython.display import display

from .. import attribution
from ..checks import check_int, check_names, check_number
from ..errors import ParameterError, did_you_mean
from ..plots import attribution as attribution_figures
from . import headless

__all__ = ["AttributionExplorer", "attribution_explorer", "DrillDown", "drill_down", "WhatIfExplorer",
           "what_if_explorer", "what_if_sentence", "NO_CAMPAIGN"]

ALL = ""  # the dropdown value meaning every channel or campaign
NO_CAMPAIGN = "(none)"  # the campaign of touches without one
SHOWN = 10  # valid names listed in an error message
OUTCOMES = {"won": "won deals", "opportunity_created": "opportunities"}  # conversion -> words of the sentence


@dataclass(frozen=True)
class DrillDown:
    """Credit of the touches of one channel and campaign (:func:`drill_down`).

    Attributes
    ----------
    channels : DataFrame
        Every channel: ``channel``, credited ``conversions`` and ``value``, ``touches``; by conversions.
    campaigns : DataFrame
        The same for the channel's campaigns (:data:`NO_CAMPAIGN`: touches without one), by conversions.
    accounts : DataFrame
        ``account_id``, ``conversions``, ``value`` of the channel and campaign's touches; by value, then id.
    """

    channels: pd.DataFrame
    campaigns: pd.DataFrame
    accounts: pd.DataFrame


def _credit_by(touches: pd.DataFrame, by: str) -> pd.DataFrame:
    table = touches.groupby(by, sort=False).agg(conversions=("credit", "sum"), value=("value_credit", "sum"),
                                                touches=("credit", "size")).reset_index()
    return table.sort_values(["conversions", by], ascending=[False, True], kind="stable").reset_index(drop=True)


def _check(value: str, name: str, allowed: list[str], where: str = "") -> None:
    """Raise ParameterError when ``value`` is given and not among ``allowed``, listing the first of them."""
    if value and value not in allowed:
        listed = ", ".join(allowed[:SHOWN]) + (f" ... ({len(allowed)} in all)" if len(allowed) > SHOWN else "")
        raise ParameterError(f"{name} {value!r} has no credited touch{where}{did_you_mean(value, allowed)}; "
                             f"{name}s with credit: {listed or '(none)'}")


def drill_down(credited: pd.DataFrame, channel: str = ALL, campaign: str = ALL) -> DrillDown:
    """Credited conversions and value by channel, by campaign of a channel, and by account of a campaign.

    Parameters
    ----------
    credited : DataFrame
        :func:`journeylib.attribution.touch_credits`: one row per credited touch.
    channel, campaign : str, default ""
        The channel, and the campaign of the channel ("": all; :data:`NO_CAMPAIGN`: touches without one).

    Returns
    -------
    DrillDown
        The ``channels``, ``campaigns`` and ``accounts`` tables of the selection. A channel, or a
        campaign of the channel, without credited touch raises ParameterError listing the valid ones.
    """
    touches = credited.assign(campaign=credited["campaign"].fillna(NO_CAMPAIGN))
    channels = _credit_by(touches, "channel")
    _check(channel or ALL, "channel", channels["channel"].tolist())
    if channel:
        touches = touches[touches["channel"] == channel]
    campaigns = _credit_by(touches, "campaign")
    _check(campaign or ALL, "campaign", campaigns["campaign"].tolist(), f" in channel {channel!r}" if channel else "")
    if campaign:
        touches = touches[touches["campaign"] == campaign]
    accounts = touches.groupby("account_id", sort=False).agg(conversions=("credit", "sum"),
                                                             value=("value_credit", "sum")).reset_index()
    accounts = accounts.sort_values(["value", "account_id"], ascending=[False, True], kind="stable")
    return DrillDown(channels, campaigns, accounts.reset_index(drop=True))


class AttributionExplorer(widgets.VBox):
    """Channel, campaign and account dropdowns over a credit table and the account's credited touches.

    Attributes
    ----------
    channel, campaign, account : ipywidgets.Dropdown
    drill : DrillDown
        The tables of the current channel and campaign.
    figures : dict of str -> Figure
        The figure on show: ``account_touches`` (the chosen touches highlighted).
    """

    def __init__(self, credited: pd.DataFrame, *, channel: str = ALL, campaign: str = ALL, account: str = ""):
        channel, campaign, account = channel or ALL, campaign or ALL, account or ""
        self._credited = credited.assign(campaign=credited["campaign"].fillna(NO_CAMPAIGN))
        self.drill = drill_down(credited, channel, campaign)
        _check(account, "account", self.drill.accounts["account_id"].tolist(),
               f" in {', '.join(n for n in (channel, campaign) if n)}" if channel or campaign else "")
        channels = [("All channels", ALL)] + [(c, c) for c in self.drill.channels["channel"]]
        self.channel = widgets.Dropdown(options=channels, value=channel, description="Channel")
        self.campaign = widgets.Dropdown(options=self._campaign_options(), value=campaign, description="Campaign")
        self.account = widgets.Dropdown(options=self._account_options(), description="Account")
        if account:
            self.account.value = account
        self._outputs = {"table": widgets.Output(), "account_touches": widgets.Output()}
        self.figures: dict[str, Any] = {}
        self._refreshing = False
        self.channel.observe(self._selection_changed, names="value")
        self.campaign.observe(self._selection_changed, names="value")
        self.account.observe(self._redraw, names="value")
        super().__init__([widgets.HBox([self.channel, self.campaign, self.account]), *self._outputs.values()])
        self._redraw()

    def _campaign_options(self) -> list[tuple[str, str]]:
        return [("All campaigns", ALL)] + [(c, c) for c in self.drill.campaigns["campaign"]]

    def _account_options(self) -> list[tuple[str, str]]:
        return [(f"{a} ({v:,.0f})", a) for a, v in zip(self.drill.accounts["account_id"], self.drill.accounts["value"])]

    def _selection_changed(self, change: Any) -> None:
        """A new channel (campaigns back to all) or campaign: new options below it, the first account, a redraw."""
        if self._refreshing:
            return
        self._refreshing = True
        try:
            new_channel = change["owner"] is self.channel
            self.drill = drill_down(self._credited, self.channel.value, ALL if new_channel else self.campaign.value)
            if new_channel:
                self.campaign.options = self._campaign_options()
                self.campaign.value = ALL
            self.account.options = self._account_options()
            self.account.value = self.account.options[0][1] if self.account.options else None
        finally:
            self._refreshing = False
        self._redraw()

    def _redraw(self, change: Any = None) -> None:
        if self._refreshing:
            return
        channel, campaign, account = self.channel.value, self.campaign.value, self.account.value
        touches = self._credited[self._credited["account_id"] == account]
        title = f"Credited touches of account {account}" if account else "No account with credited touches"
        if channel or campaign:
            title += f" ({', '.join(n for n in (channel, campaign) if n)} highlighted)"
        fig = attribution_figures.touch_timeline_figure(touches, title=title)
        if channel or campaign:
            chosen = touches["channel"].eq(channel) if channel else pd.Series(True, index=touches.index)
            if campaign:
                chosen &= touches["campaign"].eq(campaign)
            # the figure draws one trace per channel, channels sorted, touches in their order
            for trace, (_, part) in zip(fig.data, chosen.groupby(touches["channel"], sort=True)):
                trace.marker.opacity = np.where(part, 1.0, 0.25)
        self.figures = {"account_touches": fig}
        if get_ipython() is None or headless():  # no frontend to draw into (see journeylib.widgets)
            return
        table = self.drill.campaigns if channel else self.drill.channels
        self._outputs["table"].clear_output(wait=True)
        with self._outputs["table"]:
            display(table.round(2))
        self._outputs["account_touches"].clear_output(wait=True)
        with self._outputs["account_touches"]:
            fig.show(renderer="plotly_mimetype")  # mimetype only: see PathsExplorer


def attribution_explorer(credited: pd.DataFrame, *, channel: str = ALL, campaign: str = ALL,
                         account: str = "") -> AttributionExplorer:
    """Build the channel -> campaign -> account drill-down for the given parameter values.

    Parameters
    ----------
    credited : DataFrame
        :func:`journeylib.attribution.touch_credits` of the notebook's rule model.
    channel, campaign : str, default ""
        The channel and campaign shown first ("": all; campaign :data:`NO_CAMPAIGN`: touches without one).
    account : str, default ""
        The account whose touches are drawn first ("": the one with the most credited value in the selection).

    Returns
    -------
    AttributionExplorer
        Dropdowns above the credit table (by campaign of the channel, or by channel) and the
        account's credited touches. A channel, campaign or account without credited touch in the
        selection raises ParameterError listing the valid ones.
    """
    return AttributionExplorer(credited, channel=channel, campaign=campaign, account=account)


def what_if_sentence(result: pd.DataFrame, currency: str = "USD", outcome: str = "won deals") -> str:
    """One plain sentence from :func:`journeylib.attribution.what_if`'s row.

    Parameters
    ----------
    result : DataFrame
        The one-row result of ``what_if``.
    currency, outcome : str
        The currency of the value change, and what the conversions are called.

    Returns
    -------
    str
        E.g. "Removing event: about -78 won deals (interval -110 to -53) and -1,948,685 USD in value."
    """
    row = result.iloc[0]
    channel, scale = row["channel"], float(row["scale"])
    if row.get("campaign"):  # a campaign's what-if (attribution.what_if(..., campaign=...))
        channel = f"campaign {row['campaign']}"
    if scale == 1:
        return f"Keeping {channel} at its reach: no change."
    what = (f"Removing {channel}" if scale == 0 else f"Reaching {1 - scale:.0%} fewer journeys with {channel}"
            if scale < 1 else f"Reaching {scale - 1:.0%} more journeys with {channel}")
    numbers = [float(row[c]) for c in ("expected_change", "ci_low", "ci_high")]
    digits = 0 if max(abs(n) for n in numbers if np.isfinite(n)) >= 10 else 1  # "-78", "-2.4"
    change, low, high = (f"{n + 0.0:+,.{digits}f}" for n in numbers)
    interval = f" (interval {low} to {high})" if np.isfinite(numbers[1:]).all() else ""
    return f"{what}: about {change} {outcome}{interval} and {row['value_change']:+,.0f} {currency} in value."


class WhatIfExplorer(widgets.VBox):
    """A channel dropdown and a reach slider over the what-if table and its sentence.

    Attributes
    ----------
    channel, scale, sentence : ipywidgets Dropdown, FloatSlider and Label
    result : DataFrame or None
        The what-if on show (None under the review: nothing is computed there).
    """

    def __init__(self, paths: pd.DataFrame, channel: str, scale: float, *, exclude: Any = None, n_boot: int = 100,
                 random_state: int = 0, currency: str = "USD"):
        scale = check_number(scale, "scale", minimum=0, what="a multiple of the journeys the channel reaches")
        self._params = dict(exclude=check_names(exclude, "exclude"), n_boot=check_int(n_boot, "n_boot", minimum=0),
                            random_state=check_int(random_state, "random_state", minimum=0))
        used = paths[paths["decided"].astype(bool) & (paths["path"].map(len) > 0)]
        channels = [c for c in attribution.exposure_matrix(used).columns if c not in (self._params["exclude"] or [])]
        if channel not in channels:
            raise ParameterError(f"channel {channel!r} is not among the channels of the lift model"
                                 f"{did_you_mean(str(channel), channels)}; channels: {', '.join(channels)}")
        self._paths, self._currency = paths, currency
        self._outcome = OUTCOMES.get(paths.attrs.get("conversion"), "conversions")
        self.channel = widgets.Dropdown(options=channels, value=channel, description="Channel")
        self.scale = widgets.FloatSlider(value=scale, min=0.0, max=max(3.0, scale), step=0.1, description="Reach x",
                                         continuous_update=False)
        self.sentence = widgets.Label()
        self.result: pd.DataFrame | None = None
        self._output = widgets.Output()
        for control in (self.channel, self.scale):
            control.observe(self._recompute, names="value")
        super().__init__([widgets.HBox([self.channel, self.scale]), self.sentence, self._output])
        self._recompute()

    def _recompute(self, change: Any = None) -> None:
        if headless():  # the review: the notebook computes the what-if for the parameters itself
            return
        self.result = attribution.what_if(self._paths, self.channel.value, float(self.scale.value), **self._params)
        self.sentence.value = what_if_sentence(self.result, self._currency, self._outcome)
        if get_ipython() is None:
            return
        self._output.clear_output(wait=True)
        with self._output:
            display(self.result.round(2))


def what_if_explorer(paths: pd.DataFrame, channel: str, scale: float, *, exclude: Any = None, n_boot: int = 100,
                     random_state: int = 0, currency: str = "USD") -> WhatIfExplorer:
    """Build the interactive what-if for the given parameter values.

    Parameters
    ----------
    paths : DataFrame
        :func:`journeylib.attribution.conversion_paths`.
    channel, scale
        The channel of the lift model (not in ``exclude``) and its reach as a multiple of today's
        (0: removed) shown first.
    exclude, n_boot, random_state
        As in :func:`journeylib.attribution.what_if`.
    currency : str, default "USD"
        The currency of the sentence.

    Returns
    -------
    WhatIfExplorer
        Channel and reach controls above a sentence and the what-if table, recomputed when a
        control changes (nothing computed under the review). A channel outside the lift model or
        a negative scale raises ParameterError.
    """
    return WhatIfExplorer(paths, channel, scale, exclude=exclude, n_boot=n_boot, random_state=random_state,
                          currency=currency)
