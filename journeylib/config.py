"""The optional project file ``journey.yml``.

Keys (all optional)::

    data: data/exports            # folder, DuckDB file, database URL or env:VAR
    mapping: salesforce           # preset name or YAML file
    stages: config/stages.yml     # lifecycle and touchpoint mapping
    tz: Europe/Berlin             # timezone of naive timestamps and of as_of
    currency: EUR
    dayfirst: false               # 31/10/2026 style dates
    freshness_days: 14
    fiscal_year_start: 1          # month number
    notebooks: [00_data_health]   # the review's notebooks, in order

Relative paths are taken from the file's folder. Credentials never go here:
use ``data: env:VAR``.
"""
from __future__ import annotations

from pathlib import Path

from .errors import ParameterError, did_you_mean
from .yamlfile import read_yaml

__all__ = ["Config", "load_config", "CONFIG_KEYS"]

CONFIG_KEYS = {"data", "mapping", "stages", "tz", "currency", "dayfirst", "freshness_days", "fiscal_year_start",
               "notebooks"}
_PATH_KEYS = ("data", "mapping", "stages")

class Config(dict):
    """A checked ``journey.yml``: its settings, relative paths made absolute."""


def load_config(config: "str | Path | dict | Config | None") -> Config:
    """Read ``journey.yml`` (or a dict) into a checked :class:`Config`; None gives an empty one.

    A :class:`Config` is returned as is, so a run reads its file once and passes the
    result on (docs/architecture.md, "The source path").
    """
    if isinstance(config, Config):
        return config
    if config is None:
        return Config()
    base = None
    source = "<dict>"
    if isinstance(config, (str, Path)):
        path = Path(config)
        config = read_yaml(path, ParameterError, "config file") or {}
        source, base = str(path), path.resolve().parent
    if not isinstance(config, dict):
        raise ParameterError(f"{source}: expected a mapping of settings, got {type(config).__name__}")
    unknown = [k for k in config if k not in CONFIG_KEYS]
    if unknown:
        raise ParameterError(
            f"{source}: unknown settings {', '.join(repr(k) + did_you_mean(k, CONFIG_KEYS) for k in unknown)}; "
            f"allowed: {', '.join(sorted(CONFIG_KEYS))}"
        )
    out = Config(config)
    if base is not None:
        for key in _PATH_KEYS:
            value = out.get(key)
            if isinstance(value, str) and value and "://" not in value and not value.startswith("env:"):
                candidate = base / value
                if candidate.exists():
                    out[key] = str(candidate)
    return out
