"""The schedule of a recurring gift: one date per month (or year), in the supporter's zone, never skipped or doubled."""
from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from webapp.payments.recurring import schedule
from webapp.payments.recurring.models import SupportInterval

M, Y = SupportInterval.MONTHLY, SupportInterval.YEARLY
ZONES = st.sampled_from(["Europe/Paris", "America/Toronto", "America/Santiago", "Africa/Porto-Novo", "Asia/Tehran",
                         "Australia/Lord_Howe", "Pacific/Chatham", "America/St_Johns", "Asia/Kathmandu",
                         "Pacific/Kiritimati", "Pacific/Pago_Pago", "UTC", "Africa/Casablanca", "America/Havana"])
STARTS = st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31))


def charged_on(moment: datetime, zone: str, day: date) -> bool:
    """The charge falls on the supporter's `day`, or, where that day never was on their clocks (Kiritimati
    went from 30 December 1994 to 1 January 1995; Samoa skipped 30 December 2011), on the day after."""
    local = moment.replace(tzinfo=UTC).astimezone(ZoneInfo(zone)).date()
    noon = datetime.combine(day, datetime.min.time().replace(hour=12), tzinfo=ZoneInfo(zone))
    existed = noon.astimezone(UTC).astimezone(ZoneInfo(zone)).date() == day
    return local == day if existed else local == day + timedelta(days=1)


def test_a_day_the_zone_skipped_is_charged_on_the_next_day_once():
    periods = schedule.upcoming("1994-11", M, 31, 11, "Pacific/Kiritimati", 3)
    assert [d for _, d, _ in periods] == [date(1994, 11, 30), date(1994, 12, 31), date(1995, 1, 31)]
    assert [charged_on(m, "Pacific/Kiritimati", d) for _, d, m in periods] == [True, True, True]
    assert len({m for _, _, m in periods}) == 3


def test_anchor_31_goes_to_the_end_of_february_and_back_to_31_in_march():
    days = [d for _, d, _ in schedule.upcoming("2027-01", M, 31, 1, "Europe/Paris", 4)]
    assert days == [date(2027, 1, 31), date(2027, 2, 28), date(2027, 3, 31), date(2027, 4, 30)]
    leap = [d for _, d, _ in schedule.upcoming("2028-01", M, 31, 1, "Europe/Paris", 3)]
    assert leap == [date(2028, 1, 31), date(2028, 2, 29), date(2028, 3, 31)]


def test_yearly_29_february_renews_on_the_28th_and_on_the_29th_in_leap_years():
    days = [d for _, d, _ in schedule.upcoming("2028", Y, 29, 2, "UTC", 5)]
    assert days == [date(2028, 2, 29), date(2029, 2, 28), date(2030, 2, 28), date(2031, 2, 28), date(2032, 2, 29)]


def test_the_charge_moment_keeps_its_local_date_across_daylight_saving():
    # Paris changes its clocks on 28 March 2027 at 02:00; Toronto on 14 March 2027
    for zone, day in (("Europe/Paris", date(2027, 3, 28)), ("America/Toronto", date(2027, 3, 14)),
                      ("Europe/Paris", date(2027, 10, 31))):
        moment = schedule.charge_moment(day, zone)
        local = moment.replace(tzinfo=UTC).astimezone(ZoneInfo(zone))
        assert (local.date(), local.hour, local.minute) == (day, 10, 0)


@settings(max_examples=300)
@given(start=STARTS, anchor=st.integers(1, 31), zone=ZONES, count=st.integers(2, 40))
def test_monthly_one_charge_per_calendar_month_on_the_anchor_or_the_months_last_day(start, anchor, zone, count):
    first = schedule.period_of(start, M)
    periods = schedule.upcoming(first, M, anchor, start.month, zone, count)
    months = [(d.year, d.month) for _, d, _ in periods]
    expected, (y, m) = [], (start.year, start.month)
    for _ in range(count):  # consecutive calendar months: none skipped, none twice
        expected.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    assert months == expected
    for name, day, moment in periods:
        assert name == f"{day.year:04d}-{day.month:02d}"
        assert day.day == min(anchor, calendar.monthrange(day.year, day.month)[1])
        local = moment.replace(tzinfo=UTC).astimezone(ZoneInfo(zone))
        assert charged_on(moment, zone, day) and local.hour == 10  # the supporter's date, whatever the offset
    moments = [moment for _, _, moment in periods]
    assert all(b - a >= timedelta(days=27) for a, b in zip(moments, moments[1:]))


@settings(max_examples=200)
@given(start=STARTS, anchor=st.integers(1, 31), month=st.integers(1, 12), zone=ZONES, count=st.integers(2, 12))
def test_yearly_one_charge_per_year_in_the_anchor_month(start, anchor, month, zone, count):
    periods = schedule.upcoming(schedule.period_of(start, Y), Y, anchor, month, zone, count)
    assert [d.year for _, d, _ in periods] == list(range(start.year, start.year + count))
    for _, day, moment in periods:
        assert day.month == month and day.day == min(anchor, calendar.monthrange(day.year, month)[1])
        assert charged_on(moment, zone, day)


@given(moment=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2080, 1, 1)), zone=ZONES)
def test_local_today_is_the_date_on_the_supporters_clock(moment, zone):
    assert schedule.local_today(zone, moment) == moment.replace(tzinfo=UTC).astimezone(ZoneInfo(zone)).date()


def test_only_real_zone_names_are_accepted():
    assert schedule.valid_timezone("America/Toronto")
    for bad in ("", None, "Mars/Olympus", "../../etc/passwd", "x" * 100, "UTC\x00"):
        assert not schedule.valid_timezone(bad)
