"""Lifecycle stages: their order, labels, the ``recurring`` flag, and the
touchpoint -> stage mapping.

The default lifecycle has ten stages (awareness ... advocacy; ``support`` is
recurring). A company defines its own in a YAML file of the same shape as
``journeylib/default_stages.yml``::

    lifecycle:
      - {id: awareness, label: Awareness}
      - {id: support, label: Support, recurring: true}
    touchpoints:
      paid_social_ad: awareness
      "email/newsletter_click": research   # channel/touchpoint

A touchpoint's stage is its own non-empty ``stage`` value when present (a stage id
or label, case-insensitive), else the mapping's ``channel/touchpoint`` entry, else
its ``touchpoint`` entry.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import StageConfigError, closest, did_you_mean
from .yamlfile import read_yaml

__all__ = ["Stage", "Lifecycle", "load_lifecycle", "default_lifecycle", "DEFAULT_STAGES_FILE"]

DEFAULT_STAGES_FILE = Path(__file__).with_name("default_stages.yml")
_STAGE_ID = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Stage:
    """One lifecycle stage."""

    id: str
    label: str
    order: int
    recurring: bool = False


def _norm(values: pd.Series) -> pd.Series:
    return values.astype("string").str.strip().str.lower()


def _distinct_rows(columns: list[pd.Series]) -> tuple[np.ndarray, np.ndarray]:
    """Each row's number among the distinct rows of ``columns`` (compared as text, as :func:`_norm` reads
    them), and the position of each distinct row's first occurrence."""
    key = np.zeros(len(columns[0]), dtype=np.int64)
    for values in columns:
        codes, uniques = pd.factorize(values.astype("string"))
        key = pd.factorize(key * (len(uniques) + 1) + (codes + 1))[0]
    _, first, rows = np.unique(key, return_index=True, return_inverse=True)
    return rows, first


class Lifecycle:
    """An ordered lifecycle and its touchpoint mapping.

    Parameters
    ----------
    stages : list of dict or Stage
        In order; each with ``id`` (snake_case), optional ``label`` and ``recurring``.
    touchpoints : dict, optional
        Touchpoint name (or ``"channel/touchpoint"``) -> stage id.
    source : str
        Where the definition came from, for messages.
    """

    def __init__(self, stages: list[Any], touchpoints: dict[str, str] | None = None, source: str = "<dict>"):
        self.source = source
        if not stages:
            raise StageConfigError(f"{source}: 'lifecycle' lists no stages; give at least one stage id in order")
        parsed: list[Stage] = []
        for i, s in enumerate(stages):
            if isinstance(s, Stage):
                parsed.append(Stage(s.id, s.label, i, s.recurring))
                continue
            if isinstance(s, str):
                s = {"id": s}
            if not isinstance(s, dict) or "id" not in s:
                raise StageConfigError(
                    f"{source}: lifecycle entry {i + 1} is {s!r}; expected a stage id or a mapping like "
                    "{id: awareness, label: Awareness, recurring: false}"
                )
            sid = str(s["id"]).strip()
            if not _STAGE_ID.match(sid):
                raise StageConfigError(
                    f"{source}: stage id '{sid}' is not a snake_case identifier (lower-case letters, digits, '_'); "
                    f"try '{re.sub(r'[^a-z0-9]+', '_', sid.lower()).strip('_')}'"
                )
            unknown = set(s) - {"id", "label", "recurring"}
            if unknown:
                raise StageConfigError(
                    f"{source}: stage '{sid}' has unknown keys {sorted(unknown)}; allowed: id, label, recurring"
                )
            parsed.append(Stage(sid, str(s.get("label") or sid.replace("_", " ").title()), i, bool(s.get("recurring", False))))
        ids = [s.id for s in parsed]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise StageConfigError(f"{source}: stage ids must be unique; repeated: {dupes}")
        self.stages: tuple[Stage, ...] = tuple(parsed)
        self._by_id = {s.id: s for s in parsed}
        self._by_key = {s.id: s.id for s in parsed} | {s.label.strip().lower(): s.id for s in parsed}
        mapping: dict[str, str] = {}
        bad: list[str] = []
        for name, stage in (touchpoints or {}).items():
            key = str(name).strip().lower()
            sid = self._by_key.get(str(stage).strip().lower())
            if sid is None:
                bad.append(f"'{name}: {stage}'{did_you_mean(str(stage), ids)}")
            mapping[key] = sid
        if bad:
            raise StageConfigError(
                f"{source}: touchpoint mapping names stages not in the lifecycle: {'; '.join(bad)}. "
                f"Stages: {', '.join(ids)}"
            )
        self.touchpoints: dict[str, str] = mapping

    # -- properties -------------------------------------------------------
    @property
    def ids(self) -> list[str]:
        """Stage ids in lifecycle order."""
        return [s.id for s in self.stages]

    @property
    def labels(self) -> dict[str, str]:
        """Stage id -> display label."""
        return {s.id: s.label for s in self.stages}

    @property
    def order(self) -> dict[str, int]:
        """Stage id -> position (0-based)."""
        return {s.id: s.order for s in self.stages}

    @property
    def recurring(self) -> set[str]:
        """Ids of recurring stages (moves into or out of them are never backward)."""
        return {s.id for s in self.stages if s.recurring}

    @property
    def dtype(self) -> pd.CategoricalDtype:
        """An ordered categorical dtype of the stage ids."""
        return pd.CategoricalDtype(self.ids, ordered=True)

    def __getitem__(self, stage_id: str) -> Stage:
        return self._by_id[stage_id]

    def __repr__(self) -> str:
        return f"Lifecycle({' > '.join(self.ids)}; {len(self.touchpoints)} touchpoints mapped)"

    def to_dict(self) -> dict[str, Any]:
        """The lifecycle as the YAML file's structure."""
        return {
            "lifecycle": [{"id": s.id, "label": s.label, "recurring": s.recurring} for s in self.stages],
            "touchpoints": dict(self.touchpoints),
        }

    def is_backward(self, from_stage: str, to_stage: str) -> bool:
        """True when a move goes back in the linear lifecycle (recurring stages excluded)."""
        if from_stage in self.recurring or to_stage in self.recurring:
            return False
        return self.order[to_stage] < self.order[from_stage]

    # -- assignment -------------------------------------------------------
    def assign(self, touchpoint: pd.Series, channel: pd.Series | None = None,
               stage: pd.Series | None = None) -> tuple[pd.Series, pd.Series]:
        """Give each touchpoint its stage id.

        Parameters
        ----------
        touchpoint, channel, stage : Series
            The touchpoints' name, channel and explicit stage (may be missing).

        Returns
        -------
        stages : Series of str (missing where no stage could be given)
        problem : Series of str: "" when assigned, ``unknown_stage`` when the
            explicit stage names no stage, ``unmapped_touchpoint`` when no
            mapping entry covers the touchpoint.
        """
        # few distinct (name, channel, stage): each is assigned once, and every row gets its answer
        rows, first = _distinct_rows([s for s in (touchpoint, channel, stage) if s is not None])
        result, problem = self._assign_each(*(s.iloc[first] if s is not None else None
                                              for s in (touchpoint, channel, stage)))
        return (pd.Series(result.to_numpy()[rows], index=touchpoint.index, dtype=object),
                pd.Series(problem.to_numpy()[rows], index=touchpoint.index, dtype=object))

    def _assign_each(self, touchpoint: pd.Series, channel: pd.Series | None,
                     stage: pd.Series | None) -> tuple[pd.Series, pd.Series]:
        """:meth:`assign`, row by row."""
        index = touchpoint.index
        tp = _norm(touchpoint)
        by_name = tp.map(self.touchpoints)
        if channel is not None:
            ch = _norm(channel)
            by_channel = (ch + "/" + tp).map(self.touchpoints)
            by_name = by_channel.where(by_channel.notna(), by_name)
        result = by_name.astype(object)
        problem = pd.Series(np.where(result.isna(), "unmapped_touchpoint", ""), index=index, dtype=object)
        if stage is not None:
            st = _norm(stage)
            given = st.notna() & (st != "")
            explicit = st.map(self._by_key)
            result = result.where(~given, explicit.astype(object))
            problem = problem.where(~given, np.where(explicit.isna(), "unknown_stage", ""))
        return result.where(result.notna(), None), problem

    def closest_touchpoints(self, name: str, n: int = 3) -> list[str]:
        """Mapped touchpoint names close to ``name`` (for 'did you mean')."""
        return closest(name, [k.split("/")[-1] for k in self.touchpoints], n=n)

    def closest_stages(self, name: str) -> list[str]:
        return closest(name, self.ids + [s.label for s in self.stages])


def load_lifecycle(stages: "str | Path | dict | Lifecycle | None" = None) -> Lifecycle:
    """Read a lifecycle from a YAML file, a dict, or return the default.

    Parameters
    ----------
    stages : path, dict, Lifecycle or None
        None gives the default ten-stage B2B lifecycle.
    """
    if isinstance(stages, Lifecycle):
        return stages
    source = "<dict>"
    if stages is None:
        stages = DEFAULT_STAGES_FILE
    if isinstance(stages, (str, Path)):
        source = str(stages)
        stages = read_yaml(stages, StageConfigError, "stage file",
                           "give a YAML file with 'lifecycle' and 'touchpoints'") or {}
    if not isinstance(stages, dict):
        raise StageConfigError(f"{source}: expected a mapping with 'lifecycle' and 'touchpoints', got {type(stages).__name__}")
    unknown = set(stages) - {"lifecycle", "touchpoints"}
    if unknown:
        raise StageConfigError(f"{source}: unknown keys {sorted(unknown)}; allowed: lifecycle, touchpoints")
    return Lifecycle(stages.get("lifecycle") or [], stages.get("touchpoints") or {}, source=source)


def default_lifecycle() -> Lifecycle:
    """The default ten-stage B2B lifecycle with its touchpoint mapping."""
    return load_lifecycle(None)
