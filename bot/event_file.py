"""The events file (YAML): its format, and validation that names the event and the field of every mistake."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    StrictInt,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic_core import ErrorDetails

from bot.accounts import InvalidAddress, parse_address
from bot.clock import DEFAULT_ZONE, JAKARTA, JAYAPURA, MAKASSAR, ZONE_BY_OFFSET, as_utc, zone_info
from bot.errors import EventsFileError
from storage.documents import EventStatus

EVENT_ID_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{1,30}[a-z0-9])$"  # 3–32 chars: fits deep links and callback data
TIER_CODE_PATTERN = r"^[A-Za-z0-9]{1,12}$"


Moment = datetime
"""A time as the file writes it. An offset (`+08:00`) fixes the instant; a time without one is read on the event's
clock (`settle_times`). Every time is kept in UTC once the event's zone is known."""

# ---- time zones (docs/time-zones.md) ---------------------------------------------------------------------------
#
# `timezone:` names the zone an event's times are shown in: Asia/Jakarta (WIB), Asia/Makassar (WITA) or
# Asia/Jayapura (WIT), by IANA name or by its short name, in any case. When it is left out, the offset of
# `starts_at` decides: +08:00 is WITA, +09:00 is WIT, anything else (or no offset) WIB. So a Bali event written
# `starts_at: 2026-12-31T19:00:00+08:00` is shown as 19:00 WITA without a `timezone:` line.

ZONE_SPELLINGS = {"asia/jakarta": JAKARTA, "wib": JAKARTA, "asia/makassar": MAKASSAR, "wita": MAKASSAR,
                  "asia/jayapura": JAYAPURA, "wit": JAYAPURA}
ZONE_RULE = "Asia/Jakarta or WIB, Asia/Makassar or WITA, Asia/Jayapura or WIT"


def _zone(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be the name of a time zone: one of {ZONE_RULE}")
    found = ZONE_SPELLINGS.get(value.strip().lower())
    if found is None:
        raise ValueError(f"{_shown(value)} is not one of Indonesia's time zones as Karcis knows them: write one of "
                         f"{ZONE_RULE}")
    return found


Zone = Annotated[str, BeforeValidator(_zone)]


def event_zone(timezone: str | None, starts_at: datetime) -> str:
    """The zone the file names; else the one whose offset `starts_at` carries (+08:00 WITA, +09:00 WIT); else WIB."""
    if timezone:
        return timezone
    offset = starts_at.utcoffset()
    return ZONE_BY_OFFSET.get(offset, DEFAULT_ZONE) if offset is not None else DEFAULT_ZONE


def _settled(moment: datetime, zone: str) -> datetime:
    """In UTC; a time written without an offset is the event's local time."""
    return as_utc(moment.replace(tzinfo=zone_info(zone)) if moment.tzinfo is None else moment)


ADDRESSES_PER_ORGANISER = 5


LANGUAGES = ("id", "en")  # the languages Karcis speaks (handlers/messages.py)


ORGANISER_FORMS = ("an organiser is a Telegram user id, an address (telegram:<id>, whatsapp:<+number>), a list of "
                   "addresses, or any of those as {address: ..., language: id} (or language: en)")


class OrganiserAddresses(tuple[str, ...]):
    """One organiser's addresses, and the language (`id` / `en`) the file gives them, or None: what the notices
    and the sale digest use for someone who has never written to the bot (their own chat's language wins once
    they have; docs/channels.md)."""

    language: str | None = None


def _organiser(value: object) -> OrganiserAddresses:
    """One organiser: a Telegram user id (as always), an address (`telegram:<id>`, `whatsapp:<+number>`), a
    list of addresses naming one person (linked: either address is that organiser), or any of those as
    `{address: ..., language: id|en}`."""
    language = None
    if isinstance(value, dict):
        unknown = sorted(str(k) for k in value if k not in ("address", "language"))
        if unknown or "address" not in value:
            raise ValueError(f"{ORGANISER_FORMS}; in a mapping, `address:` is required"
                             + (f" and {', '.join(unknown)} is not one of its fields" if unknown else ""))
        language = value.get("language")
        if language is not None and language not in LANGUAGES:
            raise ValueError(f"language {_shown(language)} is not one Karcis speaks: write id (Indonesian) or "
                             "en (English)")
        value = value["address"]
    entries = value if isinstance(value, list) else [value]
    if not entries or len(entries) > ADDRESSES_PER_ORGANISER:
        raise ValueError(f"an organiser is named by 1 to {ADDRESSES_PER_ORGANISER} addresses")
    out = []
    for entry in entries:
        if isinstance(entry, bool) or not isinstance(entry, int | str):
            raise ValueError(ORGANISER_FORMS)
        try:
            out.append(parse_address(entry))
        except InvalidAddress as exc:
            raise ValueError(str(exc)) from None
    addresses = OrganiserAddresses(dict.fromkeys(out))
    addresses.language = language
    return addresses


# one person's normalised addresses (a PlainValidator keeps the OrganiserAddresses, and with it the language)
Organiser = Annotated[tuple[str, ...], PlainValidator(_organiser)]


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
    timezone: Zone | None = None  # after validation always set: the zone `event_zone` decides

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> EventSpec:
        """Every rule across fields. parse_events collects them all (through the validation context); a direct
        `EventSpec.model_validate` without that context is refused with all of them in one message."""
        settle_times(self)
        problems = consistency_problems(self)
        collect = info.context.get(_COLLECT) if isinstance(info.context, dict) else None
        if isinstance(collect, list):
            collect.extend(problems)
        elif problems:
            raise ValueError("; ".join(f"{where}: {what}" for where, what in problems))
        return self


# ---------------------------------------------------------------------------------------------- validation
#
# Every mistake in the file is reported at once, one line each, as `event #N (id), field: what is wrong, and what
# to write instead`, in words an organiser understands (no regular expressions, no pydantic jargon).

_COLLECT = "collect_problems"
EXPECTED_MOMENT = "2026-12-31T19:00:00+07:00"
ID_RULE = ("3–32 characters: lowercase letters a–z, digits 0–9 and dashes (-), starting and ending with a letter "
           "or digit, e.g. jazz-senja-2026")
TIER_CODE_RULE = "1–12 letters A–Z or digits 0–9, no spaces or dashes, e.g. VIP or EARLY2"
_WHOLE_NUMBER_FIELDS = {"price": "whole rupiah", "capacity": "a whole number of seats",
                        "max_per_order": "a whole number of tickets", "organisers": "a Telegram user id (digits)"}
_SHOWN_INPUT_MAX = 40  # a value quoted back from the file is cut to this many characters


class _TierCode(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)
    code: str


class _Frame(BaseModel):
    """The fields the cross-field rules look at, read leniently: when another field of the event is wrong, these
    rules are still checked, so that every mistake is reported in one go."""

    model_config = ConfigDict(extra="ignore")
    starts_at: Moment
    ends_at: Moment
    sales: SalesWindow = Field(default_factory=SalesWindow)
    tiers: list[_TierCode] = Field(default_factory=list)
    timezone: object = None  # a zone that is wrong is reported by EventSpec; here it only reads times without one

    @model_validator(mode="after")
    def _settle(self) -> _Frame:
        if not (isinstance(self.timezone, str) and self.timezone.strip().lower() in ZONE_SPELLINGS):
            self.timezone = None
        else:
            self.timezone = ZONE_SPELLINGS[self.timezone.strip().lower()]
        settle_times(self)
        return self


def settle_times(spec: EventSpec | _Frame) -> None:
    """Decide the event's zone and keep every time of it in UTC (in place, once, while validating)."""
    zone = event_zone(spec.timezone if isinstance(spec.timezone, str) else None, spec.starts_at)
    spec.timezone = zone
    spec.starts_at, spec.ends_at = _settled(spec.starts_at, zone), _settled(spec.ends_at, zone)
    if spec.sales.opens_at is not None:
        spec.sales.opens_at = _settled(spec.sales.opens_at, zone)
    if spec.sales.closes_at is not None:
        spec.sales.closes_at = _settled(spec.sales.closes_at, zone)


def consistency_problems(spec: EventSpec | _Frame) -> list[tuple[str, str]]:
    """The rules that involve more than one field of an event, as (field, problem) pairs."""
    problems: list[tuple[str, str]] = []
    if spec.ends_at <= spec.starts_at:
        problems.append(("ends_at", "the event ends before (or when) it starts: ends_at must be after starts_at"))
    codes = [t.code.upper() for t in spec.tiers]
    for code in sorted({c for c in codes if codes.count(c) > 1}):
        places = ", ".join(f"#{i}" for i, c in enumerate(codes, start=1) if c == code)
        problems.append((f"tiers ({places})", f"the tier code {code} is used more than once (tier codes are "
                                              "unique within an event, whatever their case)"))
    opens, closes = spec.sales.opens_at, spec.sales.closes_at
    if opens and closes and closes <= opens:
        problems.append(("sales", "the sales window is reversed: sales.closes_at must be after sales.opens_at"))
    if closes and closes > spec.ends_at:
        problems.append(("sales.closes_at", "sales close after the event has ended: sales.closes_at must not be "
                                            "after ends_at"))
    if opens and opens >= spec.ends_at:
        problems.append(("sales.opens_at", "sales open after the event has ended: sales.opens_at must be before "
                                           "ends_at"))
    return problems


def _shown(value: object) -> str:
    text = str(value)
    text = text if len(text) <= _SHOWN_INPUT_MAX else text[: _SHOWN_INPUT_MAX - 1] + "…"
    return f'"{text}"' if isinstance(value, str) else text


def _field_name(loc: tuple[Any, ...], raw: object) -> str:
    """`('tiers', 1, 'price')` → `tier #2 (REG), price`; `('sales', 'opens_at')` → `sales.opens_at`."""
    parts: list[str] = []
    path: list[str] = []
    index = 0
    while index < len(loc):
        key = loc[index]
        if key == "tiers" and index + 1 < len(loc) and isinstance(loc[index + 1], int):
            number = loc[index + 1]
            code = None
            if isinstance(raw, dict) and isinstance(raw.get("tiers"), list) and number < len(raw["tiers"]):
                tier = raw["tiers"][number]
                code = tier.get("code") if isinstance(tier, dict) else None
            parts.append(f"tier #{number + 1}" + (f" ({_shown(code)[:_SHOWN_INPUT_MAX]})" if code else ""))
            index += 2
            continue
        path.append(f"#{key + 1}" if isinstance(key, int) else str(key))
        index += 1
    if path:
        parts.append(".".join(path).replace(".#", " #"))
    return ", ".join(parts) or "(the event)"


def _int_problem(field: str, value: object) -> str:
    """What to write instead of a number YAML did not read as a whole number."""
    what = _WHOLE_NUMBER_FIELDS.get(field, "a whole number")
    if isinstance(value, bool):
        return f"must be {what}, not yes/no"
    if isinstance(value, float):
        meant = round(value * 1000)
        if 0 < value < 1000 and abs(value * 1000 - meant) < 1e-6:
            # `250.000` is 250.0 to YAML (a dot is a decimal point); written the Indonesian way it means 250000.
            thousands = f"{meant:,}".replace(",", ".")
            return (f"YAML reads this as {value!r} (a dot is a decimal point there), not {thousands}: write "
                    f"{meant}, without dots or commas")
        return f"{value!r} has decimals: must be {what}, written with digits only (e.g. {int(value)})"
    if isinstance(value, str):
        digits = value.replace(".", "").replace(",", "").replace("_", "").replace(" ", "")
        digits = digits.removeprefix("Rp").removeprefix("rp")
        if digits.isdigit():
            return f"{_shown(value)} is not a plain number: write {int(digits)}, without dots, commas or Rp"
        return f"{_shown(value)} is not a number: must be {what}, written with digits only (e.g. 250000)"
    return f"must be {what}, written with digits only (e.g. 250000)"


def _problem(err: ErrorDetails) -> str:
    """One pydantic error in words."""
    kind, loc, value, ctx = err["type"], err["loc"], err.get("input"), err.get("ctx") or {}
    field = next((str(p) for p in reversed(loc) if isinstance(p, str)), "")
    if kind == "missing":
        return "is missing (it is required)"
    if kind == "extra_forbidden":
        return f"is not a field of {'a tier' if 'tiers' in loc else 'an event'} (misspelt, or indented wrongly?)"
    if kind == "string_pattern_mismatch" and field == "id":
        return f"{_shown(value)} does not fit an event id: use {ID_RULE}"
    if kind == "string_pattern_mismatch" and field == "code":
        return f"{_shown(value)} does not fit a tier code: use {TIER_CODE_RULE}"
    if kind.startswith(("datetime_", "date_")):
        return (f"{_shown(value)} is not a date and time in the expected format: write it like {EXPECTED_MOMENT} "
                "(year-month-day, T, hours:minutes:seconds, then the offset; without one it is the event's own time "
                "zone, WIB unless timezone says otherwise)")
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return _int_problem(field, value)
    if kind == "greater_than_equal":
        return f"{_shown(value)} is too small: must be {ctx.get('ge')} or more"
    if kind == "less_than_equal":
        return f"{_shown(value)} is too large: must be at most {ctx.get('le')}"
    if kind == "enum":
        return f"{_shown(value)} is not one of {ctx.get('expected', 'the allowed values')}"
    if kind == "too_short" and field == "tiers":
        return "an event needs at least one tier"
    if kind == "too_long" and field == "tiers":
        return f"at most {ctx.get('max_length')} tiers per event"
    if kind == "string_too_short":
        return "is empty"
    if kind == "string_too_long":
        return f"is too long: at most {ctx.get('max_length')} characters"
    if kind in ("string_type", "list_type", "model_type", "dict_type", "model_attributes_type"):
        expected = {"string_type": "text", "list_type": "a list", "dict_type": "a mapping (field: value lines)",
                    "model_type": "a mapping (field: value lines)"}.get(kind, "a mapping")
        return f"must be {expected}"
    return str(err["msg"]).removeprefix("Value error, ")


def _describe(errors: list[ErrorDetails], raw: object) -> list[str]:
    return [f"{_field_name(tuple(err['loc']), raw)}: {_problem(err)}" for err in errors]


def _frame_problems(raw: object) -> list[tuple[str, str]]:
    try:
        frame = _Frame.model_validate(raw)
    except ValidationError:
        return []  # those fields are wrong themselves, and already reported
    return consistency_problems(frame)


def _label(index: int, raw: object) -> str:
    label = f"event #{index}"
    if isinstance(raw, dict) and isinstance(raw.get("id"), str):
        label += f" ({raw['id'][:_SHOWN_INPUT_MAX]})"
    return label


def parse_events(data: object) -> list[EventSpec]:
    """Validate the parsed YAML; raise EventsFileError listing every problem by event and field, all at once."""
    if not isinstance(data, dict) or not isinstance(data.get("events"), list):
        raise EventsFileError("the events file must be a mapping with a list under `events:`")
    problems: list[str] = []
    specs: list[EventSpec] = []
    first_use: dict[str, int] = {}
    for index, raw in enumerate(data["events"], start=1):
        label = _label(index, raw)
        collected: list[tuple[str, str]] = []
        try:
            spec = EventSpec.model_validate(raw, context={_COLLECT: collected})
        except ValidationError as exc:
            problems.extend(f"{label}, {line}" for line in _describe(exc.errors(), raw))
            collected = _frame_problems(raw)
        else:
            specs.append(spec)
        problems.extend(f"{label}, {where}: {what}" for where, what in collected)
        event_id = raw.get("id") if isinstance(raw, dict) else None
        if not isinstance(event_id, str):
            continue
        event_id = event_id.strip()
        if event_id in first_use:
            problems.append(f"{label}, id: {_shown(event_id)} is already the id of event #{first_use[event_id]}; "
                            "every event needs its own id (events are updated by id when the file is imported again)")
        else:
            first_use[event_id] = index
    if problems:
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        raise EventsFileError(f"Invalid events file ({count}); nothing was imported:\n"
                              + "\n".join(f"  {p}" for p in problems))
    return specs


def past_event_warnings(specs: list[EventSpec], now: datetime) -> list[str]:
    """Events (of a valid file, in its order) that have already ended: imported, but nobody can buy a ticket."""
    return [f"event #{index} ({spec.id}): it ended on {spec.ends_at:%Y-%m-%d %H:%M} UTC, which is in the past; it "
            "is imported but no ticket can be sold (check the year of starts_at and ends_at)"
            for index, spec in enumerate(specs, start=1) if spec.ends_at <= now]


class _DuplicateKey(yaml.YAMLError):
    def __init__(self, key: object, line: int, first_line: int) -> None:
        super().__init__(f"key {key!r} appears twice in one mapping: at line {line}, and first at line {first_line}")


class _StrictLoader(yaml.SafeLoader):
    """`yaml.safe_load`, except that a mapping with the same key twice is refused (PyYAML keeps the last one
    silently, so a second `capacity:` under a tier would quietly win)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[object, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            try:
                if key in seen:
                    raise _DuplicateKey(key, line, seen[key])
                seen[key] = line
            except TypeError:  # an unhashable key: the base constructor names that problem
                break
        return super().construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _StrictLoader.construct_mapping)


def load_events_file(path: Path) -> list[EventSpec]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise EventsFileError(f"cannot read the events file {path}: {exc.strerror}") from None
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader that also refuses duplicate keys
    except _DuplicateKey as exc:
        raise EventsFileError(f"the events file {path} is not valid: {exc}") from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" at line {where.line + 1}, column {where.column + 1}" if where else ""
        raise EventsFileError(f"the events file {path} is not valid YAML{at}") from None
    return parse_events(data)
