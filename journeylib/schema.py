"""The data contract: tables, columns, their kinds and roles, declared once.

Every other module refers to columns through this module (the constants below or
:data:`TABLES`), never through scattered string literals.
"""
from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "Column", "Table", "TABLES", "TABLE_ORDER", "REQUIRED_TABLES", "PII_COLUMNS",
    "ACCOUNT_ID", "CONTACT_ID", "LEAD_ID", "OPPORTUNITY_ID", "TICKET_ID", "EVENT_ID",
    "PARENT_ACCOUNT_ID", "TIMESTAMP", "TOUCHPOINT", "STAGE", "CHANNEL", "OUTCOME",
    "table_spec", "SURVEY_SCORE_BOUNDS", "SOURCE_COL", "ROW_COL",
]

# Column names used across modules.
ACCOUNT_ID = "account_id"
PARENT_ACCOUNT_ID = "parent_account_id"
CONTACT_ID = "contact_id"
LEAD_ID = "lead_id"
OPPORTUNITY_ID = "opportunity_id"
TICKET_ID = "ticket_id"
EVENT_ID = "event_id"
TIMESTAMP = "timestamp"
TOUCHPOINT = "touchpoint"
STAGE = "stage"
CHANNEL = "channel"
OUTCOME = "outcome"

# Provenance carried by every raw row from reading to validation, so a set-aside
# row names its source (file or table) and its 1-based row in read order.
SOURCE_COL = "_source"
ROW_COL = "_row"

# Kinds of column and how validation coerces them:
#   id        string, trimmed; empty is missing
#   time      timezone-aware UTC timestamp (ISO, offsets, epoch s/ms, date-only accepted)
#   text      string, trimmed; empty is missing
#   label     lower-case trimmed string, checked against ``allowed`` when given
#   number    float
#   count     float holding whole numbers (NaN for missing), never negative
#   money     float, never negative
#   flag      boolean (true/false/1/0/yes/no)


@dataclass(frozen=True)
class Column:
    """One column of the contract."""

    name: str
    kind: str
    required: bool = False
    allowed: tuple[str, ...] | None = None
    nonnegative: bool = False
    bounds: tuple[float, float] | None = None
    references: str | None = None  # table whose key this column refers to
    pii: bool = False
    cut_at_as_of: bool = False  # a later value is not yet known at as_of: cleared, not set aside
    doc: str = ""


@dataclass(frozen=True)
class Table:
    """One table of the contract."""

    name: str
    required: bool
    columns: tuple[Column, ...]
    key: str | None = None  # unique identifier column (duplicates set aside)
    time: str | None = None  # the row's own time: after as_of the row is out of window
    intervals: tuple[tuple[str, str], ...] = field(default=())  # (start, end): end before start is bad
    doc: str = ""

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


_ACC = "accounts"
TABLES: dict[str, Table] = {
    "accounts": Table(
        "accounts", True,
        (
            Column(ACCOUNT_ID, "id", required=True),
            Column("name", "text", doc="company name"),
            Column("industry", "text"),
            Column("employees", "count", nonnegative=True),
            Column("region", "text"),
            Column("country", "text"),
            Column("plan", "text"),
            Column("created_at", "time"),
            Column(PARENT_ACCOUNT_ID, "id", references=_ACC),
            Column("owner", "text", doc="account owner or team (internal staff)"),
        ),
        key=ACCOUNT_ID, time="created_at",
        doc="one row per account (company); parent_account_id links subsidiaries and business units",
    ),
    "touchpoints": Table(
        "touchpoints", True,
        (
            Column(ACCOUNT_ID, "id", required=True, references=_ACC),
            Column(TIMESTAMP, "time", required=True),
            Column(TOUCHPOINT, "text", required=True),
            Column(EVENT_ID, "id"),
            Column(CONTACT_ID, "id", references="contacts"),
            Column(CHANNEL, "text"),
            Column("campaign", "text"),
            Column(STAGE, "text"),
            Column(OUTCOME, "label"),
            Column("cost", "money", nonnegative=True),
        ),
        key=EVENT_ID, time=TIMESTAMP,
        doc="every interaction of an account or contact: marketing, sales, product, support",
    ),
    "contacts": Table(
        "contacts", False,
        (
            Column(CONTACT_ID, "id", required=True),
            Column(ACCOUNT_ID, "id", required=True, references=_ACC),
            Column("role", "label"),
            Column("seniority", "label"),
            Column("department", "text"),
            Column("name", "text", pii=True),
            Column("email", "text", pii=True),
        ),
        key=CONTACT_ID,
    ),
    "leads": Table(
        "leads", False,
        (
            Column(LEAD_ID, "id", required=True),
            Column("created_at", "time", required=True),
            Column(CONTACT_ID, "id", references="contacts"),
            Column(ACCOUNT_ID, "id", references=_ACC),
            Column("mql_at", "time", cut_at_as_of=True),
            Column("sql_at", "time", cut_at_as_of=True),
            Column(OPPORTUNITY_ID, "id", references="opportunities", cut_at_as_of=True),
            Column("source", "text"),
        ),
        key=LEAD_ID, time="created_at",
        intervals=(("created_at", "mql_at"), ("mql_at", "sql_at")),
    ),
    "opportunities": Table(
        "opportunities", False,
        (
            Column(OPPORTUNITY_ID, "id", required=True),
            Column(ACCOUNT_ID, "id", required=True, references=_ACC),
            Column("created_at", "time", required=True),
            Column("closed_at", "time", cut_at_as_of=True),
            Column("status", "label", allowed=("open", "won", "lost")),
            Column("amount", "money", nonnegative=True),
            Column("type", "label", allowed=("new", "expansion", "renewal")),
        ),
        key=OPPORTUNITY_ID, time="created_at", intervals=(("created_at", "closed_at"),),
    ),
    "subscriptions": Table(
        "subscriptions", False,
        (
            Column(ACCOUNT_ID, "id", required=True, references=_ACC),
            Column("start_date", "time", required=True),
            Column("end_date", "time", cut_at_as_of=True),
            Column("mrr", "money", nonnegative=True),
            Column("plan", "text"),
            Column("seats_purchased", "count", nonnegative=True),
        ),
        time="start_date", intervals=(("start_date", "end_date"),),
    ),
    "usage": Table(
        "usage", False,
        (
            Column(ACCOUNT_ID, "id", required=True, references=_ACC),
            Column("date", "time", required=True),
            Column("active_users", "count", nonnegative=True),
            Column("seats_used", "count", nonnegative=True),
            Column("feature", "text"),
            Column("events", "count", nonnegative=True),
        ),
        time="date",
    ),
    "tickets": Table(
        "tickets", False,
        (
            Column(TICKET_ID, "id", required=True),
            Column(ACCOUNT_ID, "id", required=True, references=_ACC),
            Column("opened_at", "time", required=True),
            Column("resolved_at", "time", cut_at_as_of=True),
            Column("first_response_minutes", "number", nonnegative=True),
            Column("priority", "label"),
            Column("csat", "number", bounds=(1, 5)),
        ),
        key=TICKET_ID, time="opened_at", intervals=(("opened_at", "resolved_at"),),
    ),
    "surveys": Table(
        "surveys", False,
        (
            Column(ACCOUNT_ID, "id", required=True, references=_ACC),
            Column("date", "time", required=True),
            Column("kind", "label", required=True, allowed=("nps", "csat", "ces")),
            Column("score", "number", required=True),
            Column(CONTACT_ID, "id", references="contacts"),
        ),
        time="date",
    ),
}

# Score ranges per survey kind (NPS 0-10, CSAT 1-5, CES 1-7).
SURVEY_SCORE_BOUNDS: dict[str, tuple[float, float]] = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}

TABLE_ORDER: list[str] = list(TABLES)
REQUIRED_TABLES: list[str] = [t for t, spec in TABLES.items() if spec.required]
PII_COLUMNS: dict[str, list[str]] = {
    t: [c.name for c in spec.columns if c.pii] for t, spec in TABLES.items() if any(c.pii for c in spec.columns)
}


def table_spec(name: str) -> Table:
    """Return the contract of table ``name`` (a clear error for an unknown name)."""
    from .errors import JourneyDataError, did_you_mean

    try:
        return TABLES[name]
    except KeyError:
        raise JourneyDataError(
            f"unknown table '{name}'{did_you_mean(name, TABLES)}; the contract's tables are: {', '.join(TABLES)}"
        ) from None
