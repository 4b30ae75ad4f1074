"""HTTP dates (RFC 9110 section 5.6.7): format and parse.

.. versionadded:: 0.1
"""

from __future__ import annotations

from calendar import timegm
from datetime import UTC, date, datetime
from time import gmtime, struct_time

__all__ = ["http_date", "parse_date"]

_weekday_names = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_month_names = (
    "",
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)
# PERF: a lookup is several times faster than formatting with ":02d".
_two_digits = tuple(f"{n:02d}" for n in range(100))


def http_date(
    timestamp: datetime | date | float | struct_time | None = None,
) -> str:
    """Format a point in time as an HTTP date (RFC 9110 IMF-fixdate, GMT).

    ``http_date(0)`` is ``"Thu, 01 Jan 1970 00:00:00 GMT"``. Naive datetimes
    and :class:`~time.struct_time` values are taken to be UTC already (as
    :func:`time.gmtime` and :meth:`datetime.utcnow` produce them); aware
    datetimes are converted to UTC; a plain :class:`~datetime.date` means
    midnight UTC.

    :param timestamp: A datetime, date, Unix timestamp or UTC struct_time.
        ``None`` means now.
    :return: The formatted date.

    .. versionadded:: 0.1
    """
    tt: struct_time | tuple[int, ...]

    if timestamp is None:
        tt = gmtime()
    elif isinstance(timestamp, datetime):
        # utctimetuple() converts aware values and leaves naive ones alone.
        tt = timestamp.utctimetuple()
    elif isinstance(timestamp, date):
        tt = timestamp.timetuple()
    elif isinstance(timestamp, struct_time):
        # Normalise (and recompute the weekday of) hand-built tuples.
        tt = gmtime(timegm(timestamp))
    else:
        tt = gmtime(timestamp)

    # PERF: direct formatting is several times faster than going through
    # email.utils, and this runs for Date/Expires/Last-Modified headers.
    year, month, day, hour, minute, second, weekday = tt[:7]
    digits = _two_digits
    return (
        f"{_weekday_names[weekday]}, {digits[day]} {_month_names[month]} "
        f"{year if year > 999 else f'{year:04d}'} "
        f"{digits[hour]}:{digits[minute]}:{digits[second % 100]} GMT"
    )


def parse_date(value: str | None) -> datetime | None:
    """Parse an HTTP date into an aware UTC :class:`~datetime.datetime`.

    The three formats HTTP allows are accepted: IMF-fixdate
    (``Sun, 06 Nov 1994 08:49:37 GMT``), RFC 850 (``Sunday, 06-Nov-94
    08:49:37 GMT``) and asctime (``Sun Nov  6 08:49:37 1994``), along with
    other RFC 2822 dates. A date without a zone is taken to be UTC; one with
    an offset is converted to UTC.

    :param value: The header value, or ``None``.
    :return: The datetime, or ``None`` when the value is missing or invalid.

    .. versionadded:: 0.1
    """
    if not value:
        return None

    try:
        import email.utils  # PERF: lazy; it pulls in socket and more

        parsed = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None

    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)

    return parsed.astimezone(UTC)
