"""The account drill-down: pick an account by name or id and see its whole history on one timeline.

The control mirrors the notebooks' ``account`` parameter: papermill renders the same account
headless; in JupyterLab, typing another name or id (or picking one of the offered accounts,
e.g. the risk list's) redraws the timeline.
"""
from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import pandas as pd
from ..data import JourneyData
from ..data.account import account_history, find_account
from ..errors import ParameterError
from ..plots.account import account_timeline_figure
from . import show_in

__all__ = ["AccountExplorer", "account_explorer"]


class AccountExplorer(widgets.VBox):
    """A combobox of accounts over the account's timeline and its event counts.

    Attributes
    ----------
    account : ipywidgets.Combobox
    history : DataFrame
        :func:`journeylib.data.account.account_history` of the account on show.
    figures : dict of str -> Figure
        ``account_timeline``.
    """

    def __init__(self, data: JourneyData, account: str, *, offered: Any = None, notes: dict | None = None):
        self._data, self._notes = data, dict(notes or {})
        self._names = data.accounts.set_index(data.accounts["account_id"].astype(str))["name"].astype(str).to_dict() \
            if "name" in data.accounts else {}
        self._labels: dict[str, str] = {}
        self.account = widgets.Combobox(placeholder="account name or id", description="Account",
                                        ensure_option=False, continuous_update=False)
        self._offer(offered if offered is not None else data.accounts["account_id"].head(200))
        self._output = widgets.Output()
        self.message = widgets.Label()
        self.history = pd.DataFrame()
        self.figures: dict[str, Any] = {}
        self._show(account)  # checks the parameter: an unknown account fails here, with its message
        self._select_shown()
        self.account.observe(self._changed, names="value")
        super().__init__([widgets.HBox([self.account, self.message]), self._output])

    def offer(self, ids: Any, account: str | None = None) -> None:
        """Offer other accounts in the box and show ``account`` (default: the first of them)."""
        ids = [str(a) for a in ids]
        self._offer(ids)
        if account or ids:
            self._show(account or ids[0])
            self._select_shown()

    def _offer(self, ids: Any) -> None:
        self._labels = {f"{self._names.get(str(a), a)} ({a})": str(a) for a in ids}
        self.account.options = list(self._labels)

    def _select_shown(self) -> None:
        shown = self.history.attrs["account_id"]
        value = next((k for k, v in self._labels.items() if v == shown), shown)
        if self.account.value != value:
            self.account.unobserve(self._changed, names="value")
            self.account.value = value
            self.account.observe(self._changed, names="value")

    def _changed(self, change: Any) -> None:
        text = self._labels.get(change["new"], change["new"])
        try:
            self._show(text)
            self.message.value = ""
        except ParameterError as exc:  # typing: say what is wrong, keep the last account on show
            self.message.value = str(exc)

    def _show(self, account: str) -> None:
        self.history = account_history(self._data, find_account(self._data, account))
        account_id = self.history.attrs["account_id"]
        fig = account_timeline_figure(self.history, self._data.lifecycle, subtitle=self._notes.get(account_id, ""))
        self.figures = {"account_timeline": fig}
        show_in(self._output, fig, self.history.groupby("kind").size().rename("events").to_frame().T)


def account_explorer(data: JourneyData, account: str, *, offered: Any = None,
                     notes: dict | None = None) -> AccountExplorer:
    """Build the account drill-down for the notebook's ``account`` parameter.

    Parameters
    ----------
    data : JourneyData
    account : str
        The account shown first: an id or a name (unknown or ambiguous: ParameterError).
    offered : list of str, optional
        Account ids offered in the box (e.g. the risk list's, the stalled deals'); any other
        id or name can still be typed. Default: the first 200 accounts.
    notes : dict, optional
        account id -> one line under the title (e.g. "churn risk 63%, health 41/100").

    Returns
    -------
    AccountExplorer
    """
    return AccountExplorer(data, account, offered=offered, notes=notes)
