"""The events file (YAML): its format, and validation that names the event and the field of every mistake."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    ValidationError,
    model_validator,
)

from bot.accounts import InvalidAddress, parse_address
from bot.clock import WIB, as_utc
from bot.errors import EventsFileError
from storage.documents import EventStatus

EVENT_ID_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{1,30}[a-z0-9])$"  # 3–32 chars: fits deep links and callback data
TIER_CODE_PATTERN = r"^[A-Za-z0-9]{1,12}$"


def _wib_if_naive(moment: datetime) -> datetime:
    """Times without a zone in the file are Jakarta time; all times are kept in UTC."""
    return as_utc(moment.replace(tzinfo=WIB) if moment.tzinfo is None else moment)


Moment = Annotated[datetime, AfterValidator(_wib_if_naive)]

ADDRESSES_PER_ORGANISER = 5


def _organiser(value: object) -> tuple[str, ...]:
    """One organiser: a Telegram user id (as always), an address (`telegram:<id>`, `whatsapp:<+number>`), or a
    list of addresses naming one person (linked: either address is that organiser)."""
    entries = value if isinstance(value, list) else [value]
    if not entries or len(entries) > ADDRESSES_PER_ORGANISER:
        raise ValueError(f"an organiser is named by 1 to {ADDRESSES_PER_ORGANISER} addresses")
    out = []
    for entry in entries:
        if isinstance(entry, bool) or not isinstance(entry, int | str):
            raise ValueError("an organiser is a Telegram user id, an address (telegram:<id>, whatsapp:<+number>) "
                             "or a list of addresses")
        try:
            out.append(parse_address(entry))
        except InvalidAddress as exc:
            raise ValueError(str(exc)) from None
    return tuple(dict.fromkeys(out))


Organiser = Annotated[tuple[str, ...], BeforeValidator(_organiser)]  # one person's normalised addresses


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class TierSpec(_Strict):
    code: str = Field(pattern=TIER_CODE_PATTERN)
    name: str = Field(min_length=1, max_length=64)
    price: StrictInt = Field(ge=0, le=1_000_000_000, description="integer rupiah; 0 for a free tier")
    capacity: StrictInt = Field(ge=0, le=1_000_000)
    max_per_order: StrictInt = Field(default=10, ge=1, le=20)


class SalesWindow(_Strict):
    opens_at: Moment | None = None
    closes_at: Moment | None = None


class EventSpec(_Strict):
    id: str = Field(pattern=EVENT_ID_PATTERN)
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    venue: str = Field(min_length=1, max_length=200)
    starts_at: Moment
    ends_at: Moment
    organisers: list[Organiser] = Field(default_factory=list, max_length=50)
    sales: SalesWindow = Field(default_factory=SalesWindow)
    status: EventStatus = EventStatus.ON_SALE
    tiers: list[TierSpec] = Field(min_length=1, max_length=20)

    @model_validator(mode="after")
    def _consistent(self) -> EventSpec:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        codes = [t.code.upper() for t in self.tiers]
        duplicates = sorted({c for c in codes if codes.count(c) > 1})
        if duplicates:
            raise ValueError(f"tier codes must be unique (case-insensitive): {', '.join(duplicates)}")
        opens, closes = self.sales.opens_at, self.sales.closes_at
        if opens and closes and closes <= opens:
            raise ValueError("sales.closes_at must be after sales.opens_at")
        if closes and closes > self.ends_at:
            raise ValueError("sales.closes_at must not be after ends_at")
        return self


def _describe(errors: list[dict[str, Any]]) -> list[str]:
    out = []
    for err in errors:
        field = ".".join(str(p) for p in err["loc"]) or "(event)"
        message = err["msg"].removeprefix("Value error, ")
        out.append(f"{field}: {message}")
    return out


def parse_events(data: object) -> list[EventSpec]:
    """Validate the parsed YAML; raise EventsFileError listing every problem by event and field."""
    if not isinstance(data, dict) or not isinstance(data.get("events"), list):
        raise EventsFileError("the events file must be a mapping with a list under `events:`")
    problems: list[str] = []
    specs: list[EventSpec] = []
    for index, raw in enumerate(data["events"], start=1):
        label = f"event #{index}"
        if isinstance(raw, dict) and isinstance(raw.get("id"), str):
            label += f" ({raw['id']})"
        try:
            specs.append(EventSpec.model_validate(raw))
        except ValidationError as exc:
            problems.extend(f"{label}: {line}" for line in _describe(exc.errors()))
    ids = [s.id for s in specs]
    problems.extend(f"event ({i}): id used more than once" for i in sorted({i for i in ids if ids.count(i) > 1}))
    if problems:
        raise EventsFileError("Invalid events file; nothing was imported:\n" + "\n".join(f"  {p}" for p in problems))
    return specs


def load_events_file(path: Path) -> list[EventSpec]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise EventsFileError(f"cannot read the events file {path}: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" at line {where.line + 1}, column {where.column + 1}" if where else ""
        raise EventsFileError(f"the events file {path} is not valid YAML{at}") from None
    return parse_events(data)
