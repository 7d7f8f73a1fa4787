"""On-call burden: who the notifications paged, and when, in the team's time zone.

A *page* is one notification line of the log: Nagios writes one
``SERVICE NOTIFICATION``/``HOST NOTIFICATION`` line per contact it notified,
so the lines of one contact are that contact's pages. Times are converted to
the team's time zone (:class:`OnCallHours`) before they are called night,
weekend or working hours, so a page at 23:30 in Berlin is a night page even
though it is 22:30 UTC.

Contact groups come from the ``define contactgroup`` blocks of
``objects.cache`` (``members``): a contact in two groups counts in both.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

NOTIFICATION_KINDS = ("service_notification", "host_notification")
WORST_NIGHTS = 5


class BurdenError(ValueError):
    """A time zone or hour range that cannot be used."""


@dataclass(frozen=True)
class OnCallHours:
    """The team's clock.

    :param timezone: IANA name (``Europe/Berlin``); default UTC.
    :param working: [start, end) hours of a working day, Monday to Friday.
    :param night: [start, end) hours of the night; it may wrap midnight
        (22, 7 is 22:00 to 07:00). A night belongs to the date it starts on.
    """

    timezone: str = "UTC"
    working: tuple[int, int] = (9, 18)
    night: tuple[int, int] = (22, 7)

    def __post_init__(self):
        try:
            pd.Timestamp("2026-01-01", tz=self.timezone)
        except Exception:  # pytz/zoneinfo raise different types for an unknown zone
            raise BurdenError(f"--timezone {self.timezone}: not a time zone name (e.g. Europe/Berlin, UTC)") from None
        for name, (start, end) in (("working hours", self.working), ("night hours", self.night)):
            if not (0 <= start <= 23 and 0 <= end <= 24) or start == end:
                raise BurdenError(f"{name} {start}-{end}: give two different hours between 0 and 24")
        if self.working[0] >= self.working[1]:
            raise BurdenError(f"working hours {self.working[0]}-{self.working[1]}: the start must be before the end")


def parse_hours(text: str, option: str) -> tuple[int, int]:
    """``"9-18"`` -> (9, 18), for the CLI's hour-range options."""
    start, sep, end = str(text).partition("-")
    try:
        if not sep:
            raise ValueError
        return int(start), int(end)
    except ValueError:
        raise BurdenError(f"{option} {text}: give hours as START-END, e.g. 9-18") from None


def local_times(times: pd.Series, hours: OnCallHours) -> pd.Series:
    return pd.to_datetime(times, utc=True).dt.tz_convert(hours.timezone)


def classify(times: pd.Series, hours: OnCallHours) -> pd.DataFrame:
    """Per time: ``night`` (bool), ``weekend`` (bool), ``working`` (bool) and ``night_of`` (date a night began).

    Weekend is Saturday and Sunday in the team's zone; a night page on Friday
    night at 23:00 is a night page, and Saturday 03:00 is both.
    """
    local = local_times(times, hours)
    hour = local.dt.hour
    start, end = hours.night
    night = (hour >= start) | (hour < end) if start > end else (hour >= start) & (hour < end)
    weekend = local.dt.day_of_week >= 5
    working = ~weekend & (hour >= hours.working[0]) & (hour < hours.working[1])
    # After midnight a page belongs to the night that began the evening before.
    after_midnight = (night & (hour < end)).to_numpy() if start > end else np.zeros(len(local), dtype=bool)
    # Day arithmetic on the local wall clock, as datetime64 days (no Python date per page).
    days = local.dt.tz_localize(None).to_numpy().astype("datetime64[D]")
    night_of = days - after_midnight.astype("timedelta64[D]")
    return pd.DataFrame(
        {
            "local_time": local,
            "night": night.to_numpy(),
            "weekend": weekend.to_numpy(),
            "working": working.to_numpy(),
            "night_of": night_of,
        },
        index=times.index,
    )


def pages(events: pd.DataFrame, hours: OnCallHours) -> pd.DataFrame:
    """Every notification line with its contact and its place on the team's clock."""
    if events is None or len(events) == 0:
        notes = pd.DataFrame({c: pd.Series(dtype=object) for c in ("node", "host", "service", "contact")})
        notes["time"] = pd.Series(dtype="datetime64[ns, UTC]")
    else:
        notes = events.loc[
            events["kind"].isin(NOTIFICATION_KINDS).to_numpy(), ["time", "node", "host", "service", "contact"]
        ]
    # Categoricals stay categoricals (a fleet's pages are many); only the used names are kept.
    notes = notes.astype({c: "category" for c in ("node", "host", "service", "contact")})
    for column in ("node", "host", "service", "contact"):
        notes[column] = notes[column].cat.remove_unused_categories()
    return pd.concat([notes.reset_index(drop=True), classify(notes["time"].reset_index(drop=True), hours)], axis=1)


def _per(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    columns = [key, "pages", "night_pages", "weekend_pages", "out_of_hours_pages", "nights_woken"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    frame = frame.assign(out_of_hours=~frame["working"].astype(bool))
    out = frame.groupby(key, observed=True).agg(
        pages=("time", "size"),
        night_pages=("night", "sum"),
        weekend_pages=("weekend", "sum"),
        out_of_hours_pages=("out_of_hours", "sum"),
    )
    nights = frame[frame["night"]].groupby(key, observed=True)["night_of"].nunique().rename("nights_woken")
    out = out.join(nights).fillna({"nights_woken": 0}).astype("int64").reset_index()
    out[key] = out[key].astype(str)
    return out.sort_values(["pages", key], ascending=[False, True], kind="stable").reset_index(drop=True)[columns]


def per_contact(page_frame: pd.DataFrame) -> pd.DataFrame:
    """Pages per contact: all, at night, at weekends, outside working hours, nights with a page."""
    return _per(page_frame, "contact")


def per_contact_group(page_frame: pd.DataFrame, groups: pd.DataFrame) -> pd.DataFrame:
    """The same per contact group (a page counts in every group of its contact)."""
    if groups is None or groups.empty:
        return _per(page_frame.assign(contact_group=pd.Series(dtype=str)).head(0), "contact_group")
    return _per(page_frame.merge(groups, on="contact", how="inner"), "contact_group")


def worst_nights(page_frame: pd.DataFrame, limit: int = WORST_NIGHTS) -> pd.DataFrame:
    """The nights with the most pages: date the night began, pages, contacts paged, top services."""
    columns = ["night_of", "pages", "contacts", "services", "first_page", "last_page"]
    nights = page_frame[page_frame["night"]]
    if nights.empty:
        return pd.DataFrame(columns=columns)
    rows = []
    counts = nights.groupby("night_of").size().sort_values(ascending=False, kind="stable")
    worst = set(counts.head(limit).index)
    for night, group in nights[nights["night_of"].isin(worst)].groupby("night_of"):
        services = group.groupby(["service", "host"], observed=True).size().sort_values(ascending=False, kind="stable")
        rows.append(
            {
                "night_of": str(night)[:10],
                "pages": len(group),
                "contacts": ", ".join(sorted(map(str, group["contact"].unique()))),
                "services": "; ".join(f"{s} on {h} ({n})" for (s, h), n in services.head(3).items()),
                "first_page": group["local_time"].min().strftime("%H:%M"),
                "last_page": group["local_time"].max().strftime("%H:%M"),
            }
        )
    out = pd.DataFrame(rows, columns=columns)
    return (
        out.sort_values(["pages", "night_of"], ascending=[False, True], kind="stable")
        .head(limit)
        .reset_index(drop=True)
    )


def night_share(page_frame: pd.DataFrame) -> pd.DataFrame:
    """Per node, host and service: pages, night pages and the contacts paged (for the changes)."""
    if page_frame.empty:
        return pd.DataFrame(columns=["node", "host", "service", "pages", "night_pages", "contacts"])
    keys = ["node", "host", "service"]
    out = page_frame.groupby(keys, observed=True).agg(pages=("time", "size"), night_pages=("night", "sum"))
    pairs = page_frame[keys + ["contact"]].drop_duplicates().astype(str)
    contacts = pairs.groupby(keys)["contact"].agg(lambda c: ", ".join(sorted(c))).rename("contacts")
    out = out.reset_index().astype({"node": str, "host": str, "service": str})
    return out.merge(contacts.reset_index(), on=keys, how="left")
