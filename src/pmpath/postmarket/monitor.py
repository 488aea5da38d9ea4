"""Monitoring pre-specified adverse events look by look: the plan (MONITOR.yaml), the event data (EVENTS.csv) and each look's MaxSPRT statistic against its boundary.

:func:`load_plan` reads and validates the plan (:class:`MonitorPlan`); :func:`read_events` reads
the event counts, setting aside every bad row as a :class:`RowProblem` (source, record, problem,
example: the lines of ``import_log.tsv``); :func:`monitor` computes, for each planned event, each
look's cumulative counts, log-likelihood ratio and critical value, and whether and when the test
signalled (:class:`MonitorResult`). The sequential mathematics is in
:mod:`pmpath.postmarket.sequential`.

EVENTS.csv columns (one row per event and look; counts are those of the look, not cumulative):

- ``event``: the event's ``code`` in the plan; ``look``: a look number (1, 2, ...) or an ISO date;
- Poisson events: ``observed`` (events in the look) and ``expected`` (events expected in the look
  under the null), or ``person_time`` when the plan gives ``expected_rate`` (expected events per
  unit of person-time);
- binomial events: ``cases`` (events in the risk window, or among the exposed) and ``controls``
  (events in the control window, or among the unexposed).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PositiveFloat,
    PositiveInt,
    Tag,
    model_validator,
)

from pmpath.errors import DossierError, Finding, UsageError
from pmpath.formatting import format_number
from pmpath.postmarket.sequential import (
    CriticalValue,
    binomial_llr,
    critical_value_binomial,
    critical_value_poisson,
    poisson_critical_counts,
    poisson_llr,
)

__all__ = [
    "BinomialEventPlan",
    "EventData",
    "EventLook",
    "EventMonitoring",
    "MonitorPlan",
    "MonitorResult",
    "PoissonEventPlan",
    "RowProblem",
    "load_plan",
    "monitor",
    "read_events",
    "summarize_problems",
]

EXAMPLE_LENGTH = 200  # an example row in import_log.tsv is cut to this many characters


# --------------------------------------------------------------------------- the plan


class _EventPlanBase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: Annotated[str, Field(min_length=1, max_length=200)]
    label: Annotated[str, Field(min_length=1, max_length=500)]
    alpha: Annotated[float, Field(gt=0, le=0.5)] | None = None
    min_events: PositiveInt = 1


class PoissonEventPlan(_EventPlanBase):
    """An event monitored with the Poisson MaxSPRT: observed events against those expected.

    ``max_sample_size`` is the length of surveillance in events expected under the null;
    ``group_sizes`` the expected events between planned looks (group sequential; summing to
    ``max_sample_size``), or absent for continuous monitoring. With ``expected_rate`` (expected
    events per unit of person-time) the event rows give ``person_time`` instead of ``expected``.
    """

    method: Literal["poisson"]
    max_sample_size: PositiveFloat
    group_sizes: list[PositiveFloat] | None = None
    expected_rate: PositiveFloat | None = None

    @model_validator(mode="after")
    def _groups_sum(self) -> PoissonEventPlan:
        if self.group_sizes is not None and not math.isclose(
            sum(self.group_sizes), self.max_sample_size, rel_tol=1e-9
        ):
            raise ValueError(
                f"found group_sizes summing to {format_number(sum(self.group_sizes), 6)},"
                f" expected max_sample_size {format_number(self.max_sample_size, 6)}"
            )
        return self


class BinomialEventPlan(_EventPlanBase):
    """An event monitored with the binomial MaxSPRT: cases against controls.

    ``matching_ratio`` is the number of controls per case expected under the null (R's ``z``: a
    case has probability ``1 / (1 + z)``); ``max_sample_size`` the length of surveillance in events
    (cases plus controls); ``group_sizes`` the events between planned looks, or absent for
    continuous monitoring (a look after every event).
    """

    method: Literal["binomial"]
    matching_ratio: PositiveFloat
    max_sample_size: PositiveInt
    group_sizes: list[PositiveInt] | None = None

    @model_validator(mode="after")
    def _groups_sum(self) -> BinomialEventPlan:
        if self.group_sizes is not None and sum(self.group_sizes) != self.max_sample_size:
            raise ValueError(
                f"found group_sizes summing to {sum(self.group_sizes)},"
                f" expected max_sample_size {self.max_sample_size}"
            )
        if self.min_events > self.max_sample_size:
            raise ValueError(
                f"found min_events {self.min_events}, expected at most max_sample_size"
                f" {self.max_sample_size}"
            )
        return self


def _method_of(value: object) -> object:
    return value.get("method") if isinstance(value, dict) else getattr(value, "method", None)


EventPlan = Annotated[
    Annotated[PoissonEventPlan, Tag("poisson")] | Annotated[BinomialEventPlan, Tag("binomial")],
    Discriminator(
        _method_of,
        custom_error_type="method",
        custom_error_message="found no method or an unknown one, expected method: poisson or binomial",
    ),
]


class MonitorPlan(BaseModel):
    """MONITOR.yaml: the events monitored, each with its method and design, and the significance level.

    Examples
    --------
    >>> plan = MonitorPlan.model_validate({"alpha": 0.05, "events": [
    ...     {"code": "GBS", "label": "Guillain-Barré syndrome", "method": "poisson",
    ...      "max_sample_size": 10}]})
    >>> plan.events[0].method, plan.alpha_of(plan.events[0])
    ('poisson', 0.05)
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: Annotated[str, Field(max_length=500)] = ""
    alpha: Annotated[float, Field(gt=0, le=0.5)] = 0.05
    events: Annotated[list[EventPlan], Field(min_length=1)]

    @model_validator(mode="after")
    def _unique_codes(self) -> MonitorPlan:
        seen: set[str] = set()
        for event in self.events:
            if event.code in seen:
                raise ValueError(f"found event code {event.code!r} twice, expected each code once")
            seen.add(event.code)
        return self

    def alpha_of(self, event: PoissonEventPlan | BinomialEventPlan) -> float:
        return self.alpha if event.alpha is None else event.alpha


def load_plan(path: Path) -> MonitorPlan:
    """Read and validate MONITOR.yaml.

    Raises
    ------
    DossierError
        The file cannot be read or is not a valid plan; every finding names the file, the line,
        the field, what was found and what was expected.
    """
    from pmpath.dossier.source import read_yaml, validate_model

    findings: list[Finding] = []
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise DossierError(
            [
                Finding(
                    str(path),
                    None,
                    "",
                    f"a file that cannot be read ({exc.strerror or exc})",
                    "a readable MONITOR.yaml",
                )
            ]
        ) from exc
    doc = read_yaml(raw, str(path), findings)
    plan = validate_model(MonitorPlan, doc, findings) if doc is not None else None
    if findings or plan is None:
        raise DossierError(findings)
    return plan


# --------------------------------------------------------------------------- the event data


@dataclass(frozen=True)
class RowProblem:
    """One record set aside while importing: where (source and record), what, and the record itself."""

    source: str
    record: str
    problem: str
    example: str


@dataclass(frozen=True)
class EventData:
    """The usable rows of EVENTS.csv, per event code, and the problems of the others.

    ``rows[code]`` lists ``(look, counts)`` in look order; ``counts`` holds ``observed`` and
    ``expected`` (Poisson) or ``cases`` and ``controls`` (binomial).
    """

    source: str
    rows: dict[str, list[tuple[str, dict[str, float]]]]
    problems: tuple[RowProblem, ...] = ()


def summarize_problems(problems: tuple[RowProblem, ...]) -> list[str]:
    """One line per source and kind of problem, e.g. ``EVENTS.csv: 2 records: bad observed``."""
    counts: dict[tuple[str, str], int] = {}
    for p in problems:
        key = (p.source, p.problem.split(":", 1)[0])
        counts[key] = counts.get(key, 0) + 1
    return [f"{source}: {n} record{'s' * (n != 1)}: {kind}" for (source, kind), n in counts.items()]


_LOOK_NUMBER = re.compile(r"^[1-9][0-9]{0,8}$")
_COUNT = re.compile(r"^(0|[1-9][0-9]{0,11})$")


def _look_key(text: str) -> tuple[str, object] | None:
    if _LOOK_NUMBER.match(text):
        return "number", int(text)
    try:
        return "date", dt.date.fromisoformat(text)
    except ValueError:
        return None


def _count(text: str) -> int | None:
    return int(text) if _COUNT.match(text) else None


def _amount(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


def read_events(path: Path, plan: MonitorPlan) -> EventData:
    """Read EVENTS.csv (or .tsv, .parquet) for ``plan``, setting aside every bad row as a :class:`RowProblem`.

    Set aside: rows with the wrong number of fields, an event code not in the plan, an empty,
    non-numeric or negative count, a look that is neither a positive whole number nor an ISO date
    (or of the other kind than the event's other looks), exact duplicates of an earlier row
    (the first is kept), and rows giving the same event and look different counts (all of them).
    A column a planned event needs that is missing is one problem on the header.

    Raises
    ------
    DossierError
        The file cannot be read as a table at all (not UTF-8 text, binary, a wrong separator).
    """
    from pmpath.dossier.source import read_table

    source = Path(path).name
    findings: list[Finding] = []
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise DossierError(
            [
                Finding(
                    str(path),
                    None,
                    "",
                    f"a file that cannot be read ({exc.strerror or exc})",
                    "a readable events table",
                )
            ]
        ) from exc
    table = read_table(raw, source, findings)
    problems: list[RowProblem] = []
    lines = raw.decode("utf-8", errors="replace").splitlines()

    def example(line: int | None) -> str:
        if line is None or not 1 <= line <= len(lines):
            return ""
        return lines[line - 1][:EXAMPLE_LENGTH]

    if table is None:
        raise DossierError(findings)
    for f in findings:  # ragged rows and forbidden characters: the table reader's findings
        problems.append(
            RowProblem(
                source,
                f"line {f.line}" if f.line else "file",
                f"malformed row: {f.message}",
                example(f.line),
            )
        )
    by_code = {e.code: e for e in plan.events}
    needed = {"event", "look"}
    for e in plan.events:
        if e.method == "binomial":
            needed |= {"cases", "controls"}
        else:
            needed |= {"observed", "person_time" if e.expected_rate is not None else "expected"}
    header = table.header_line
    missing = sorted(needed - set(table.columns))
    for name in missing:
        problems.append(
            RowProblem(
                source,
                f"line {header}" if header else "header",
                f"missing column: {name!r}",
                example(header),
            )
        )
    n_rows = len(table.row_lines)
    if "event" in missing or "look" in missing:
        return EventData(source, {}, tuple(problems))

    columns = table.columns
    seen: dict[tuple[str, str], tuple[int, tuple[str, ...]]] = {}
    kinds: dict[str, str] = {}
    parsed: dict[tuple[str, str], tuple[int, object, dict[str, float]]] = {}
    conflicted: set[tuple[str, str]] = set()

    def cell(name: str, i: int) -> str:
        return str(columns[name][i]).strip() if name in columns else ""

    for i in range(n_rows):
        line = table.line(i)
        record = table.where(i)

        def bad(problem: str, i=i, line=line, record=record) -> None:
            problems.append(RowProblem(source, record, problem, example(line)))

        code = cell("event", i)
        plan_event = by_code.get(code)
        if plan_event is None:
            bad(
                f"unknown event: {code!r} is not a code in the plan"
                if code
                else "empty event: no event code"
            )
            continue
        if plan_event.method == "binomial":
            names = ("cases", "controls")
        elif plan_event.expected_rate is not None:
            names = ("observed", "person_time")
        else:
            names = ("observed", "expected")
        if any(n not in columns for n in names):
            continue  # the missing column is one problem on the header
        look_text = cell("look", i)
        look = _look_key(look_text)
        if look is None:
            bad(f"bad look: found {look_text!r}, expected a look number (1, 2, ...) or an ISO date")
            continue
        kind, order = look
        if kinds.setdefault(code, kind) != kind:
            bad(
                f"bad look: found a {kind} {look_text!r}, expected a {kinds[code]} like the event's other looks"
            )
            continue
        values: dict[str, float] = {}
        for name in names:
            text = cell(name, i)
            value = _count(text) if name in ("observed", "cases", "controls") else _amount(text)
            if value is None:
                what = (
                    "a whole number of at least 0"
                    if name in ("observed", "cases", "controls")
                    else "a number of at least 0"
                )
                bad(f"bad {name}: found {text!r}, expected {what}")
                break
            values[name] = float(value)
        else:
            key = (code, look_text)
            content = tuple(cell(n, i) for n in names)
            if key in seen:
                first_line, first_content = seen[key]
                if first_content == content:
                    bad(f"duplicated row: the same as line {first_line}")
                else:
                    bad(
                        f"conflicting rows: event {code!r} look {look_text!r} also on line {first_line} with other counts"
                    )
                    conflicted.add(key)
                continue
            seen[key] = (line, content)
            if plan_event.method == "poisson" and plan_event.expected_rate is not None:
                values = {
                    "observed": values["observed"],
                    "expected": values["person_time"] * plan_event.expected_rate,
                }
            parsed[key] = (line, order, values)

    rows: dict[str, list[tuple[str, dict[str, float]]]] = {}
    for key in conflicted:  # neither of two rows that disagree can be trusted
        line, _, _ = parsed.pop(key)
        problems.append(
            RowProblem(
                source,
                f"line {line}",
                f"conflicting rows: event {key[0]!r} look {key[1]!r} has other counts on a later line",
                example(line),
            )
        )
    for (code, look_text), (_, _order, values) in sorted(
        parsed.items(), key=lambda kv: (kv[0][0], kv[1][1])
    ):
        rows.setdefault(code, []).append((look_text, values))
    return EventData(source, rows, tuple(problems))


# --------------------------------------------------------------------------- monitoring


@dataclass(frozen=True)
class EventLook:
    """One look at one event: the cumulative counts, the statistic and the boundary.

    ``observed`` is the cumulative number of events (Poisson) or cases (binomial); ``expected``
    the number expected under the null (binomial: ``events / (1 + z)`` cases); ``events`` the
    cumulative events, cases plus controls (binomial only). ``critical_count`` is the fewest
    observed events (cases) that would signal at this look (``None`` if none can).
    ``status``: ``continue``, ``signal`` (this look crossed the boundary first), ``after signal``,
    ``end`` (the last look of the surveillance, without a signal) or ``after end``.
    """

    look: str
    observed: int
    expected: float
    events: int | None
    llr: float
    critical_value: float
    critical_count: int | None
    crossed: bool
    status: str


@dataclass(frozen=True)
class EventMonitoring:
    """The sequential test of one planned event over its looks."""

    code: str
    label: str
    method: Literal["poisson", "binomial"]
    design: CriticalValue
    min_events: int
    max_sample_size: float
    looks: tuple[EventLook, ...]
    notes: tuple[str, ...] = ()

    @property
    def signal_look(self) -> str | None:
        """The look at which the test first signalled, ``None`` if it has not."""
        return next((lk.look for lk in self.looks if lk.status == "signal"), None)

    @property
    def status(self) -> str:
        """``signal``, ``ended`` (surveillance complete without a signal), ``continuing`` or ``no data``."""
        if not self.looks:
            return "no data"
        if self.signal_look is not None:
            return "signal"
        if any(lk.status == "end" for lk in self.looks):
            return "ended"
        return "continuing"

    def to_text(self) -> str:
        where = f" at look {self.signal_look}" if self.signal_look is not None else ""
        return f"{self.code} ({self.label}): {self.status}{where}; {self.design.to_text()}"


@dataclass(frozen=True)
class MonitorResult:
    """Every planned event's sequential test, and the rows set aside while importing."""

    title: str
    events: tuple[EventMonitoring, ...]
    problems: tuple[RowProblem, ...] = ()
    sources: tuple[str, ...] = field(default_factory=tuple)

    TABLE_COLUMNS = (
        "event",
        "label",
        "method",
        "look",
        "observed",
        "expected",
        "events",
        "llr",
        "critical_value",
        "critical_count",
        "signal",
        "status",
    )

    def table_rows(self) -> list[dict[str, object]]:
        """One row per event and look (``monitor.tsv``)."""
        out = []
        for e in self.events:
            for lk in e.looks:
                out.append(
                    {
                        "event": e.code,
                        "label": e.label,
                        "method": e.method,
                        "look": lk.look,
                        "observed": lk.observed,
                        "expected": lk.expected,
                        "events": lk.events,
                        "llr": lk.llr,
                        "critical_value": lk.critical_value,
                        "critical_count": lk.critical_count,
                        "signal": lk.crossed,
                        "status": lk.status,
                    }
                )
        return out

    def to_json(self) -> dict[str, object]:
        return {
            "title": self.title,
            "events": [
                {
                    "code": e.code,
                    "label": e.label,
                    "method": e.method,
                    "status": e.status,
                    "signal_look": e.signal_look,
                    "min_events": e.min_events,
                    "max_sample_size": e.max_sample_size,
                    "design": {
                        "continuous": e.design.continuous,
                        "critical_value": e.design.critical_value,
                        "critical_value_max": e.design.critical_value_max,
                        "alpha": e.design.alpha,
                        "alpha_target": e.design.alpha_target,
                        "looks": list(e.design.looks),
                        "alpha_spent": list(e.design.alpha_spent),
                    },
                    "looks": [
                        {k: v for k, v in row.items() if k not in ("event", "label", "method")}
                        for row in self.table_rows()
                        if row["event"] == e.code
                    ],
                    "notes": list(e.notes),
                }
                for e in self.events
            ],
            "import_problems": [
                {"source": p.source, "record": p.record, "problem": p.problem, "example": p.example}
                for p in self.problems
            ],
        }


def _design(plan: MonitorPlan, event: PoissonEventPlan | BinomialEventPlan) -> CriticalValue:
    alpha = plan.alpha_of(event)
    if event.method == "poisson":
        return critical_value_poisson(
            event.max_sample_size, alpha, min_events=event.min_events, group_sizes=event.group_sizes
        )
    return critical_value_binomial(
        event.max_sample_size,
        alpha,
        matching_ratio=event.matching_ratio,
        min_events=event.min_events,
        group_sizes=event.group_sizes,
    )


def _critical_count(event, cv: float, sample: float) -> int | None:
    """Fewest observed events (cases) that signal at cumulative ``sample`` (expected events or events)."""
    if event.method == "poisson":
        if sample <= 0:
            return None
        _, counts = poisson_critical_counts(
            sample, cv, min_events=event.min_events, group_sizes=[sample]
        )
        return int(counts[0])
    n = int(sample)
    k = np.arange(event.min_events, n + 1)
    reach = np.nonzero(binomial_llr(k, n, event.matching_ratio) >= cv)[0]
    return int(k[reach[0]]) if reach.size else None


def _monitor_event(
    plan: MonitorPlan, event, looks: list[tuple[str, dict[str, float]]]
) -> EventMonitoring:
    design = _design(plan, event)
    cv = design.critical_value
    notes: list[str] = []
    result: list[EventLook] = []
    observed = 0
    sample = 0.0  # expected events (Poisson) or events (binomial)
    signalled = ended = False
    planned = np.cumsum(event.group_sizes) if event.group_sizes is not None else None
    end = float(event.max_sample_size)
    for index, (look, counts) in enumerate(looks):
        if event.method == "poisson":
            observed += int(counts["observed"])
            sample += counts["expected"]
            expected = sample
            events = None
            llr = float(poisson_llr(observed, sample)) if sample > 0 else 0.0
        else:
            observed += int(counts["cases"])
            sample += counts["cases"] + counts["controls"]
            expected = sample / (1.0 + event.matching_ratio)
            events = int(sample)
            llr = float(binomial_llr(observed, sample, event.matching_ratio)) if sample > 0 else 0.0
        if (
            planned is not None
            and index < len(planned)
            and not ended
            and not math.isclose(sample, planned[index], rel_tol=0.01, abs_tol=1e-9)
        ):
            notes.append(
                f"look {look}: cumulative {'expected events' if event.method == 'poisson' else 'events'}"
                f" {format_number(sample)} differ from the planned {format_number(planned[index])};"
                " the critical value is the planned design's"
            )
        crossed = llr >= cv and observed >= event.min_events and sample > 0
        if ended:
            status = "after end"
        elif signalled:
            status = "after signal"
        elif crossed:
            status, signalled = "signal", True
        else:
            status = "continue"
        last_planned = planned is not None and index + 1 >= len(planned)
        if not ended and (sample >= end * (1 - 1e-9) or last_planned):
            if status == "continue":
                status = "end"
            ended = True
            if sample > end * (1 + 1e-9):
                notes.append(
                    f"look {look}: cumulative {format_number(sample)} passes the maximum sample size"
                    f" {format_number(end)}; this look ends the surveillance"
                )
        result.append(
            EventLook(
                look=look,
                observed=observed,
                expected=float(expected),
                events=events,
                llr=llr,
                critical_value=cv,
                critical_count=_critical_count(event, cv, sample),
                crossed=bool(crossed),
                status=status,
            )
        )
    after = sum(lk.status == "after end" for lk in result)
    if after:
        notes.append(
            f"{after} look{'s' * (after != 1)} after the end of surveillance: shown, never a signal"
        )
    if planned is not None and len(looks) > len(planned):
        notes.append(f"{len(looks)} looks in the data for {len(planned)} planned")
    return EventMonitoring(
        code=event.code,
        label=event.label,
        method=event.method,
        design=design,
        min_events=event.min_events,
        max_sample_size=end,
        looks=tuple(result),
        notes=tuple(dict.fromkeys(notes)),
    )


def monitor(plan: MonitorPlan, data: EventData) -> MonitorResult:
    """Each planned event's MaxSPRT over its looks: statistic, critical value, whether and when it signalled.

    A look signals when the log-likelihood ratio of the cumulative counts reaches the design's
    critical value and at least ``min_events`` events (cases) have been observed. Continuous
    designs are evaluated at every look of the data (looking less often than after every event
    keeps the type I error below alpha); group-sequential designs expect the looks as planned and
    say so where the data's cumulative counts differ from the plan by more than 1%. The look that
    reaches the maximum sample size (or the last planned look) ends the surveillance.

    Raises
    ------
    UsageError
        ``data`` was read for another plan (an event code the plan does not have).
    AnalysisError
        A design has no critical value (from :mod:`pmpath.postmarket.sequential`).
    """
    codes = {e.code for e in plan.events}
    unknown = sorted(set(data.rows) - codes)
    if unknown:
        raise UsageError(f"event data: found event codes {unknown}, expected codes of the plan")
    events = tuple(_monitor_event(plan, e, data.rows.get(e.code, [])) for e in plan.events)
    return MonitorResult(plan.title, events, data.problems, (data.source,))
