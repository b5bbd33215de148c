"""How Alertmanager and Prometheus write times and numbers on the wire (Go's formats)."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from decimal import Decimal


def to_datetime(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def millis(at: datetime) -> datetime:
    """Truncate to milliseconds: the precision Alertmanager's API keeps."""
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


def am_time(at: datetime | float) -> str:
    """Alertmanager (go-openapi strfmt.DateTime): 2024-05-01T12:00:00.000Z."""
    at = to_datetime(at) if isinstance(at, int | float) else at.astimezone(UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def prom_time(at: datetime | float) -> str:
    """Prometheus (Go time.Time RFC 3339 nano): fraction only when non-zero, trailing 0s cut."""
    at = to_datetime(at) if isinstance(at, int | float) else at.astimezone(UTC)
    text = at.strftime("%Y-%m-%dT%H:%M:%S")
    if at.microsecond:
        text += f".{at.microsecond:06d}".rstrip("0")
    return text + "Z"


_FRACTION = re.compile(r"(\.\d{6})\d+")


def parse_time(text: str) -> datetime:
    """Parse RFC 3339 (any fraction length, Z or offset) into an aware UTC datetime."""
    value = _FRACTION.sub(r"\1", text.strip())
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"time without a timezone: {text!r}")
    return parsed.astimezone(UTC)


def parse_prom_time(text: str) -> float:
    """A Prometheus API time parameter: unix seconds (float) or RFC 3339."""
    try:
        return float(text)
    except ValueError:
        return parse_time(text).timestamp()


def sample_value(value: float) -> str:
    """A sample value as Prometheus writes it (Go 'f' format, shortest): '12.5', '1'."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    text = format(Decimal(repr(float(value))), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def alert_value(value: float) -> str:
    """An alert's value as Prometheus' alerts API writes it (Go 'e' format): '1.25e+01'."""
    if math.isnan(value) or math.isinf(value):
        return sample_value(value)
    if value == 0:
        return "0e+00"
    mantissa, exponent = f"{Decimal(repr(float(value))):e}".split("e")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    sign = "-" if exponent.startswith("-") else "+"
    return f"{mantissa}e{sign}{abs(int(exponent)):02d}"


def timestamp(ts: float) -> float | int:
    """A sample timestamp: unix seconds with millisecond precision, as a JSON number."""
    rounded = round(ts, 3)
    return int(rounded) if rounded == int(rounded) else rounded
