from datetime import timedelta

import pytest

from shiftdeck.domain.durations import format_age, format_duration, parse_duration
from shiftdeck.domain.notify import name_list
from shiftdeck.domain.sanitize import clean, clean_mapping


def test_escape_sequences_are_removed():
    assert clean("\x1b]0;pwned\x07title") == "]0;pwnedtitle"
    assert clean("\x1b[31mred\x1b[0m") == "[31mred[0m"


def test_c1_del_and_nul_are_removed_but_tab_and_newline_kept():
    assert clean("a\x00b\x7fc\x9bd\te\nf") == "abcd\te\nf"


def test_bidi_overrides_are_removed():
    assert clean("abc\u202edcba\u2066x\u2069") == "abcdcbax"


def test_markup_is_left_as_plain_text():
    assert clean("[@click=app.quit]x[/]") == "[@click=app.quit]x[/]"


def test_huge_values_are_capped():
    assert len(clean("x" * 200_000)) == 64 * 1024 + 1


def test_mapping_cleans_keys_and_values_and_tolerates_non_dicts():
    assert clean_mapping({"a\x1b": "b\x9c"}) == {"a": "b"}
    assert clean_mapping(["not", "a", "dict"]) == {}


@pytest.mark.parametrize("text,expected", [
    ("90s", timedelta(seconds=90)), ("15m", timedelta(minutes=15)), ("4h", timedelta(hours=4)),
    ("1d", timedelta(days=1)), ("1h30m", timedelta(minutes=90)), ("1w", timedelta(weeks=1)),
])
def test_durations_parse(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "15", "m", "15 minutes", "1.5h", "-5m"])
def test_bad_durations_are_rejected(text):
    with pytest.raises(ValueError):
        parse_duration(text)


def test_ages_are_compact():
    assert [format_age(timedelta(seconds=s)) for s in (5, 300, 7200, 200000)] == \
        ["5s", "5m", "2h", "2d"]
    assert format_duration(timedelta(minutes=90)) == "1h30m"


@pytest.mark.parametrize(("delta", "shown"), [
    (timedelta(days=3, seconds=25), "3d"),  # was "3d25s", redrawn every second while idle
    (timedelta(hours=1, seconds=30), "1h"),
    (timedelta(weeks=1, hours=5), "1w"),
    (timedelta(days=2, hours=4, minutes=5), "2d4h"),
    (timedelta(minutes=1, seconds=5), "1m5s"),
    (timedelta(seconds=59), "59s"),
])
def test_a_duration_shows_its_largest_unit_and_the_next_one_when_not_zero(delta, shown):
    assert format_duration(delta) == shown


def test_desktop_notification_cannot_be_broken_out_of():
    from shiftdeck.domain.notify import desktop_notification

    text = desktop_notification("P1", "evil\x07\x1b]0;x;y", in_tmux=False)
    assert text.count("\x07") == 2 and text.count("\x1b") == 2
    wrapped = desktop_notification("P1", "db down", in_tmux=True)
    assert wrapped.startswith("\x1bPtmux;\x1b\x1b]9;P1: db down") and wrapped.endswith("\x1b\\")


def test_rate_limit_holds_back_pages_within_the_interval():
    from datetime import UTC, datetime

    from shiftdeck.domain.notify import RateLimit

    now = datetime(2026, 11, 22, tzinfo=UTC)
    limit = RateLimit(timedelta(seconds=30))
    assert limit.allow(now)
    assert not limit.allow(now + timedelta(seconds=10))
    assert limit.allow(now + timedelta(seconds=31))
    assert limit.held == 1


def test_sparkline_scales_squeezes_and_marks_gaps():
    from shiftdeck.domain.sparkline import sparkline

    assert sparkline([0, 1, 2, 3, 4, 5, 6, 7], 8) == "▁▂▃▄▅▆▇█"
    assert sparkline([5, 5, 5], 10) == "▁▁▁"
    assert len(sparkline(list(range(1000)), 40)) == 40
    assert sparkline([1, float("nan"), 3], 3) == "▁ █"
    assert sparkline([], 10) == ""


def test_alerts_selector_escapes_values_and_skips_invalid_names():
    from shiftdeck.domain.metric import alerts_selector

    selector = alerts_selector({"alertname": "X", "job": 'a"b\\c', "bad name": "v"})
    assert selector == 'ALERTS{alertname="X",job="a\\"b\\\\c",alertstate="firing"}'


def test_presence_strip_marks_slices_with_samples():
    from shiftdeck.domain.sparkline import presence_strip

    assert presence_strip([0, 5, 95], 0, 100, 10) == "█····" "····█"


def test_a_storm_or_a_huge_name_makes_a_short_toast() -> None:
    assert name_list(["b", "a", "b"]) == "a, b"
    assert name_list(f"Alert{i:03d}" for i in range(100)) == (
        "Alert000, Alert001, Alert002 and 97 more")
    assert name_list(["A" * 100_000]) == "A" * 59 + "…"
