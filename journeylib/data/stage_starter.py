"""A starter stage file from a source's own touchpoint names (``journey stages init``).

A company's touchpoint names (a web clickstream's ``page_view:/pricing``,
``signup_started``, ``Webinar Attended``, ``invoice_paid`` ...) often fit no entry
of the default lifecycle's mapping, so :func:`journeylib.load` sets those rows aside
as ``unmapped_touchpoint``. :func:`stage_starter` reads the touchpoints *without*
validation, counts every distinct name and guesses each one's stage, and writes a
stage file (the format of :mod:`journeylib.stages`) the user only has to check:

* a name in the lifecycle's own touchpoint mapping keeps that stage
  (``# default mapping``);
* else the first keyword rule of :data:`KEYWORD_RULES` found in the name gives a
  guess (``# guessed from "trial"``);
* else the name is left for the user: a stage file cannot leave a stage empty
  (:class:`~journeylib.stages.Lifecycle` rejects ``null``), so it is written as a
  comment line ``# name: ?  # 12 touchpoints`` to uncomment and fill in. The file
  loads as written; those names stay unmapped until then.

Keyword matching
----------------
A name is split into lower-case words at anything but letters and digits and at
camelCase humps (``page_view:/pricing`` -> ``page view pricing``, ``WebinarAttended``
-> ``webinar attended``); two-word spellings of one word are joined (``sign up``,
``log in``, ``add-on``, ``e-book``, ``page view`` -> ``signup``, ``login``, ``addon``,
``ebook``, ``pageview``), and a plural ``s`` is ignored (``tickets`` matches
``ticket``, ``case studies`` matches ``case study``). A rule's phrase matches when
its words occur in the name in order, next to each other: ``ad`` matches
``linkedin_ad_click`` but not ``download``.

Rules with more words are tried first (``security review`` is a decision before
``review`` is advocacy; ``pricing page`` is research before ``pricing`` is
consideration), then rules in table order. The single words are ordered so that
the word saying most about the stage wins when a name has several: ``trial``
first (``trial_login``, ``trial_expired``: consideration), then renewal, expansion,
support (``billing ticket``: support), billing (``invoice_paid``: renewal),
onboarding, decision, advocacy, consideration, adoption, cancellation and churn
(renewal), awareness and, last, research (``pageview``, ``email``, ``download``:
the weakest hints). Only rules whose stage is in the lifecycle are used.

Touchpoint names are customer data: they are never evaluated, and every name is
written as a YAML key that reads back as exactly that name (plain when that is
safe, else double-quoted with escapes); the file is parsed back before it is
returned.
"""
from __future__ import annotations

import dataclasses
import os
import re
from typing import Any

import pandas as pd
import yaml

from ..checks import given
from ..config import load_config
from ..errors import JourneyDataError, MappingError, did_you_mean
from ..schema import TOUCHPOINT
from ..stages import DEFAULT_STAGES_FILE, Lifecycle, default_lifecycle, load_lifecycle
from .read import choose_source, read_source, resolve_source, source_label, strings_only

__all__ = ["stage_starter", "guess_stage", "starter_summary", "KEYWORD_RULES", "STARTER_COLUMNS"]

STARTER_COLUMNS = ["touchpoint", "rows", "stage", "reason", "keyword"]

# (stage, phrases): see the module docstring, "Keyword matching". Phrases of more words are tried
# first whatever their place here; among phrases of one word count, this order decides.
_RULE_TABLE: tuple[tuple[str, str], ...] = (
    # phrases (two words or more): more specific than any of their words alone
    ("awareness", "paid search, paid social, search ad, social ad, display ad, video ad, organic search, "
                  "social post, review site, comparison site, referral traffic, referral visit, referral intro, "
                  "word of mouth, event booth, cold call, cold email"),
    ("research", "pricing page, page view pricing, website visit, web visit, site visit, contact form, contact us, "
                 "case study download, api reference, webinar signup, webinar registration, newsletter signup, "
                 "newsletter subscription"),
    ("consideration", "free trial, demo request, request demo, discovery call, sales call, sales email, ae call, "
                      "sales meeting, onsite meeting, onsite visit, conference call, proof of concept, "
                      "feature comparison, solution workshop, roi calculator"),
    ("decision", "security review, security questionnaire, legal review, closed won, closed lost, deal won, "
                 "deal lost, purchase order"),
    ("onboarding", "welcome call, onboarding guide"),
    ("adoption", "in app, business review, health check, active user"),
    ("support", "knowledge base, kb article, help center, help centre, feature request, invoice query, "
                "billing question, csat survey"),
    ("expansion", "seat increase, plan change, more seats"),
    ("advocacy", "case study participation, nps promoter, referral given, review written, customer reference, "
                 "reference call"),
    # single words, strongest first
    ("consideration", "trial"),
    ("renewal", "renewal, renew, renewed, renewing"),
    ("expansion", "upsell, crosssell, upgrade, upgraded, addon, expansion, seat"),
    ("support", "ticket, support, helpdesk, bug, incident, outage, escalation, csat, help, faq"),
    ("renewal", "invoice, billing, payment"),
    ("onboarding", "kickoff, onboarding, setup, implementation, training, golive"),
    ("decision", "negotiation, proposal, quote, contract, procurement, purchase, purchased, checkout, order, "
                 "signed, won, nda"),
    ("advocacy", "review, referral, nps, promoter, testimonial, community, advocate, ambassador"),
    ("consideration", "signup, signedup, demo, case study, pricing, comparison, discovery, evaluation, pilot, poc, "
                      "workshop, rfp, rfi, consultation"),
    ("adoption", "login, loggedin, logon, signin, signedin, feature, activation, activated, activate, usage, invite, "
                 "invited, qbr, dashboard"),
    ("renewal", "cancel, canceled, cancelled, cancellation, churn, churned"),
    ("awareness", "ad, advert, advertisement, impression, social, banner, display, podcast, ppc, cpc, sem, seo, "
                  "organic, linkedin, facebook, twitter, instagram, youtube, billboard, tradeshow, conference, "
                  "booth, sponsorship, sponsor, outbound, prospecting"),
    ("research", "blog, whitepaper, ebook, guide, docs, documentation, webinar, newsletter, website, pageview, "
                 "article, video, download, datasheet, infographic, checklist, template, report, content, email, "
                 "visit"),
)

# Two-word spellings of one word, joined before matching ("sign up" -> "signup").
_COMPOUNDS = frozenset({
    "signup", "signedup", "signin", "signedin", "login", "loggedin", "logon", "setup", "kickoff", "addon",
    "crosssell", "upsell", "ebook", "whitepaper", "onboarding", "helpdesk", "golive", "pageview", "checkout",
    "tradeshow", "casestudy",
})
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_WORD = re.compile(r"[^\W_]+")


def _stem(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 2:
        return word[:-1]
    return word


def _words(text: str) -> tuple[str, ...]:
    """The words keyword rules compare: lower-case, plural ``s`` dropped, compounds joined."""
    raw = [_stem(w.casefold()) for w in _WORD.findall(_CAMEL.sub(" ", text))]
    out: list[str] = []
    i = 0
    while i < len(raw):
        if i + 1 < len(raw) and raw[i] + raw[i + 1] in _COMPOUNDS:
            out.append(raw[i] + raw[i + 1])
            i += 2
        else:
            out.append(raw[i])
            i += 1
    return tuple(out)


def _build_rules() -> tuple[tuple[str, str], ...]:
    rules = [(phrase.strip(), stage) for stage, phrases in _RULE_TABLE for phrase in phrases.split(",")]
    # stable: more words first, then table order
    return tuple(sorted(rules, key=lambda rule: -len(_words(rule[0]))))


KEYWORD_RULES: tuple[tuple[str, str], ...] = _build_rules()
"""(phrase, stage id) in the order they are tried; the first phrase found in a name gives its guess."""

_RULE_WORDS = tuple((_words(phrase), phrase, stage) for phrase, stage in KEYWORD_RULES)


def _contains(words: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    return any(words[i:i + n] == phrase for i in range(len(words) - n + 1))


def guess_stage(name: str, lifecycle: Lifecycle | None = None) -> tuple[str | None, str, str | None]:
    """Guess the stage of one touchpoint name.

    Parameters
    ----------
    name : str
        A touchpoint name as found in the data.
    lifecycle : Lifecycle, optional
        Its touchpoint mapping is looked up first (trimmed, case-insensitive); keyword
        rules naming a stage it does not have are skipped. Default: the default lifecycle.

    Returns
    -------
    stage : str or None
        The stage id, None when nothing matched.
    reason : str
        ``"mapping"`` (in the lifecycle's mapping), ``"keyword"`` or ``"unmatched"``.
    keyword : str or None
        The matching phrase of :data:`KEYWORD_RULES` for a ``"keyword"`` guess.

    Examples
    --------
    >>> guess_stage("Demo")
    ('consideration', 'mapping', None)
    >>> guess_stage("trial_expired")
    ('consideration', 'keyword', 'trial')
    >>> guess_stage("quarterly_sync")
    (None, 'unmatched', None)
    """
    lifecycle = default_lifecycle() if lifecycle is None else lifecycle
    key = str(name).strip().lower()
    if key in lifecycle.touchpoints:
        return lifecycle.touchpoints[key], "mapping", None
    words = _words(str(name))
    ids = set(lifecycle.ids)
    for phrase_words, phrase, stage in _RULE_WORDS:
        if stage in ids and _contains(words, phrase_words):
            return stage, "keyword", phrase
    return None, "unmatched", None


# --------------------------------------------------------------------------- reading
def _read_touchpoints(source: Any, mapping: Any) -> tuple[pd.Series, str]:
    """The touchpoints' names as text (unvalidated) and the source's description."""
    resolved = resolve_source(source)
    where = source_label(source, resolved)
    if mapping is not None:
        from .mapping import load_mapping, read_mapped

        spec = load_mapping(mapping)
        if "touchpoints" not in spec.tables:
            raise MappingError(f"the column mapping '{spec.name}' has no 'touchpoints' table; add a feed for it "
                               "(see journeylib/data/presets/salesforce.yml)")
        # only the touchpoints: a stage file needs no accounts, and the other tables need not fit
        spec = dataclasses.replace(spec, tables={"touchpoints": spec.tables["touchpoints"]})
        return read_mapped(resolved, spec)[2]["touchpoints"][TOUCHPOINT], where
    raw = read_source(resolved, tables={"touchpoints"})
    if not raw.tables:
        raise JourneyDataError(
            f"{where}: no touchpoints table (touchpoints.csv, .csv.gz or .parquet, or a database table named "
            "touchpoints); for a CRM export give its column mapping (--mapping salesforce, hubspot or a YAML file)"
        )
    name, frame = next(iter(raw.tables.items()))
    if TOUCHPOINT not in frame.columns:
        columns = [c for c in frame.columns if not str(c).startswith("_")]
        raise JourneyDataError(
            f"{raw.names.get(name, name)}: required column '{TOUCHPOINT}' is missing"
            f"{did_you_mean(TOUCHPOINT, columns)}; columns: {', '.join(map(str, columns)) or 'none'}"
        )
    return strings_only(frame[[TOUCHPOINT]])[TOUCHPOINT], where


def _count(names: pd.Series) -> tuple[pd.DataFrame, int]:
    """Rows per distinct name (trimmed; case-insensitive, as the stage mapping matches) and unnamed rows.

    Most rows first, ties by the lower-case name.
    """
    text = names.astype("string").str.strip()
    named = text[text.notna() & (text != "")]
    if named.empty:
        return pd.DataFrame({"touchpoint": pd.Series(dtype=object), "rows": pd.Series(dtype="int64")}), len(text)
    spellings = named.value_counts().rename_axis("spelling").reset_index(name="n")
    spellings["spelling"] = spellings["spelling"].astype(object)
    spellings["key"] = spellings["spelling"].str.lower()
    # one line per mapping key, shown in its most frequent spelling
    spellings = spellings.sort_values(["key", "n", "spelling"], ascending=[True, False, True], kind="stable")
    counts = spellings.groupby("key", sort=False).agg(touchpoint=("spelling", "first"), rows=("n", "sum"))
    counts = counts.reset_index().sort_values(["rows", "key"], ascending=[False, True], kind="stable")
    return counts[["touchpoint", "rows"]].reset_index(drop=True).astype({"rows": "int64"}), len(text) - len(named)


# --------------------------------------------------------------------------- writing
_PLAIN = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_./ -]*[A-Za-z0-9_./-])?")
_NOT_IN_COMMENT = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff]")
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}
_MAX_SIMPLE_KEY = 1000  # YAML reads a key written as "key: value" only up to 1024 characters


def _printable(char: str) -> bool:
    code = ord(char)
    return (0x20 <= code <= 0x7E or (0xA0 <= code <= 0xD7FF and char not in "\u2028\u2029")
            or (0xE000 <= code <= 0xFFFD and code != 0xFEFF) or code >= 0x10000)


def _yaml_str(text: str) -> str:
    """``text`` as a YAML scalar that reads back as exactly this string, on one line."""
    if _PLAIN.fullmatch(text):
        try:
            if yaml.safe_load(f"{text}: 0") == {text: 0}:  # not a bool, null, number or date
                return text
        except yaml.YAMLError:
            pass
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif _printable(char):
            out.append(char)
        elif ord(char) <= 0xFF:
            out.append(f"\\x{ord(char):02x}")
        elif ord(char) <= 0xFFFF:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    return '"' + "".join(out) + '"'


def _comment(text: str) -> str:
    """Text safe inside a YAML comment: one line, nothing YAML refuses to read."""
    return _NOT_IN_COMMENT.sub("?", text)


def _entry(key: str, value: str, note: str, width: int, commented: bool) -> list[str]:
    lead = "  # " if commented else "  "
    if len(key) > _MAX_SIMPLE_KEY:  # YAML's explicit key form: "? key" then ": value"
        return [f"{lead}? {key}", f"{lead}: {value}  # {note}"]
    return [f"{lead}{f'{key}: {value}':<{width - len(lead) + 2}}  # {note}"]  # notes in one column


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def _render(table: pd.DataFrame, lifecycle: Lifecycle, unnamed: int, where: str, mapping_note: str) -> str:
    undecided = int((table["reason"] == "unmatched").sum())
    origin = "default mapping" if lifecycle.source == str(DEFAULT_STAGES_FILE) else f"mapping of {lifecycle.source}"
    lines = [
        f"# Stage file started by `journey stages init` from {_comment(where)}{_comment(mapping_note)}.",
        "# Format: journeylib/default_stages.yml. Names are matched case-insensitively, trimmed.",
        "# 1. Edit the lifecycle if your stages differ: ids in order, labels, `recurring: true` for a stage",
        "#    visited again and again (support).",
        "# 2. Check each touchpoint's stage: \"guessed from\" marks a keyword guess; the others come from",
        f"#    the {_comment(origin)}.",
        "# 3. Names no rule matched are the commented lines marked `?` (a stage cannot be left empty, so",
        "#    they are comments and the file loads as it is): uncomment each and replace `?` with a stage id;",
        "#    a name left out stays unmapped, and its rows are set aside when loading.",
        f"# {_plural(len(table), 'touchpoint name')} in {_plural(int(table['rows'].sum()), 'row')}: "
        f"{int((table['reason'] == 'mapping').sum()):,} mapped, {int((table['reason'] == 'keyword').sum()):,} "
        f"guessed, {undecided:,} to decide.",
    ]
    if unnamed:
        lines.append(f"# {_plural(unnamed, 'row')} with an empty or missing touchpoint name not listed "
                     "(they are set aside when loading).")
    lines.append("lifecycle:")
    for stage in lifecycle.stages:
        recurring = ", recurring: true" if stage.recurring else ""
        lines.append(f"  - {{id: {_yaml_str(stage.id)}, label: {_yaml_str(stage.label)}{recurring}}}")
    if table.empty:
        lines.append("touchpoints: {}")
        return "\n".join(lines) + "\n"
    lines.append("touchpoints:")
    keys = [_yaml_str(name) for name in table["touchpoint"]]
    width = min(48, max(len(k) + 2 + len(_yaml_str(s) if s else "?") for k, s in zip(keys, table["stage"])))
    for key, row in zip(keys, table.itertuples(index=False)):
        count = _plural(int(row.rows), "touchpoint")
        if row.reason == "mapping":
            lines += _entry(key, _yaml_str(row.stage), f"{count}, {origin}", width, False)
        elif row.reason == "keyword":
            lines += _entry(key, _yaml_str(row.stage), f'{count}, guessed from "{row.keyword}"', width, False)
        else:
            lines += _entry(key, "?", f"{count}, no keyword matched: decide", width, True)
    return "\n".join(lines) + "\n"


def stage_starter(source: "str | os.PathLike | None" = None, *, mapping: Any = None, config: Any = None,
                  lifecycle: "str | os.PathLike | dict | Lifecycle | None" = None) -> tuple[str, pd.DataFrame]:
    """A starter stage file listing every touchpoint name of a source with its count and a guessed stage.

    Parameters
    ----------
    source : str or path, optional
        What :func:`journeylib.load` reads: a folder of CSV/CSV.GZ/Parquet files, a DuckDB
        file, a database URL or ``env:VAR``; None or "" reads the config's ``data``, else
        the bundled sample. Without a mapping the touchpoints are the table named
        ``touchpoints`` (any case).
    mapping : str, path or dict, optional
        A column mapping (preset name, YAML file or dict; default: the config's). Only its
        ``touchpoints`` feeds are applied, so the export needs no accounts table.
    config : str, path, dict or Config, optional
        A ``journey.yml``; its ``data`` and ``mapping`` are used when not given. Its
        ``stages`` is not: the starter is how such a file begins.
    lifecycle : str, path, dict or Lifecycle, optional
        The lifecycle written out, whose touchpoint mapping is looked up before the
        keyword rules; default: the default ten-stage lifecycle.

    Returns
    -------
    text : str
        The stage file (YAML): the lifecycle in full, then ``touchpoints:`` with one
        line per name, most frequent first (ties by lower-case name), e.g.
        ``signup_started: consideration  # 1,234 touchpoints, guessed from "signup"``.
        Unmatched names are comment lines (``# name: ?  # 3 touchpoints, ...``), so
        the text loads with :func:`journeylib.stages.load_lifecycle` as it is.
    table : DataFrame
        One row per name, in the file's order, columns :data:`STARTER_COLUMNS`:
        ``touchpoint`` (its most frequent spelling; names equal but for case are one
        entry, as the mapping matches them), ``rows``, ``stage`` (None when unmatched),
        ``reason`` (``mapping``, ``keyword`` or ``unmatched``) and ``keyword``.
        ``table.attrs`` holds ``unnamed_rows`` (rows with an empty or missing name, not
        listed) and ``source`` (its description, passwords masked).

    Raises
    ------
    JourneyDataError
        The source cannot be read, it has no touchpoints table or column, or the
        mapping does not fit its touchpoints.

    Examples
    --------
    >>> text, table = stage_starter("exports/clickstream")  # doctest: +SKIP
    >>> table.head(3)  # doctest: +SKIP
    """
    life = load_lifecycle(lifecycle)
    cfg = load_config(given(config))
    mapping = given(mapping) if given(mapping) is not None else cfg.get("mapping")
    names, where = _read_touchpoints(choose_source(source, cfg), mapping)
    counts, unnamed = _count(names)
    guesses = [guess_stage(name, life) for name in counts["touchpoint"]]
    table = pd.DataFrame({
        "touchpoint": counts["touchpoint"].astype(object),
        "rows": counts["rows"].astype("int64"),
        "stage": pd.Series([g[0] for g in guesses], dtype=object),
        "reason": pd.Series([g[1] for g in guesses], dtype=object),
        "keyword": pd.Series([g[2] for g in guesses], dtype=object),
    }, columns=STARTER_COLUMNS)
    table.attrs.update(unnamed_rows=int(unnamed), source=where)
    mapping_note = f" (mapping: {mapping})" if isinstance(mapping, (str, os.PathLike)) else ""
    text = _render(table, life, unnamed, where, mapping_note)
    _check_round_trip(text, table, life)
    return text, table


def _check_round_trip(text: str, table: pd.DataFrame, lifecycle: Lifecycle) -> None:
    """The written file must read back as the intended lifecycle and mapping: never hand out a broken file."""
    loaded = load_lifecycle(yaml.safe_load(text))
    wanted = {str(n).strip().lower(): s for n, s in zip(table["touchpoint"], table["stage"]) if s is not None}
    if loaded.touchpoints != wanted or loaded.to_dict()["lifecycle"] != lifecycle.to_dict()["lifecycle"]:
        raise RuntimeError("journeylib bug: the starter stage file does not read back as written; please report it")


def starter_summary(table: pd.DataFrame) -> str:
    """One sentence on a :func:`stage_starter` table: names, rows, how many mapped, guessed and left to decide."""
    n_mapped = int((table["reason"] == "mapping").sum())
    n_guessed = int((table["reason"] == "keyword").sum())
    n_open = int((table["reason"] == "unmatched").sum())
    unnamed = int(table.attrs.get("unnamed_rows", 0))
    extra = f" ({_plural(unnamed, 'row')} without a name not listed)" if unnamed else ""
    check = " (check them)" if n_guessed else ""
    where = " (the commented lines marked '?')" if n_open else ""
    return (f"Found {_plural(len(table), 'touchpoint name')} in {_plural(int(table['rows'].sum()), 'row')}{extra}: "
            f"{n_mapped:,} in the stage mapping, {n_guessed:,} guessed from keywords{check}, "
            f"{n_open:,} left to decide{where}.")
