"""The business day: what "today" is for promise dates, in the deployment's time zone."""

import datetime as dt


def business_day(now: dt.datetime, zone: dt.tzinfo) -> dt.date:
    """The calendar date at instant `now` where the business runs (`DISTGATE_TIMEZONE`)."""
    return now.astimezone(zone).date()
