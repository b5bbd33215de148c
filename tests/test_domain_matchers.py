import pytest

from shiftdeck.domain.matchers import MatcherError, Op, parse_matchers


def test_bare_first_word_means_alertname():
    (matcher,) = parse_matchers("DiskFull")
    assert (matcher.name, matcher.op, matcher.value) == ("alertname", Op.EQ, "DiskFull")


def test_all_four_operators_parse():
    parsed = parse_matchers('a=1 b!=2 c=~"x.*" d!~y')
    assert [m.op for m in parsed] == [Op.EQ, Op.NE, Op.RE, Op.NRE]


def test_braces_and_commas_are_accepted():
    parsed = parse_matchers('{alertname="X", severity=~"crit.*"}')
    assert [str(m) for m in parsed] == ['alertname="X"', 'severity=~"crit.*"']


def test_regex_is_fully_anchored():
    (matcher,) = parse_matchers('severity=~"crit"')
    assert not matcher.matches({"severity": "critical"})
    assert matcher.matches({"severity": "crit"})


def test_missing_label_matches_as_empty_string():
    (not_dev,) = parse_matchers("namespace!=dev")
    assert not_dev.matches({})
    (empty,) = parse_matchers('team=""')
    assert empty.matches({"alertname": "x"})


def test_quoted_value_keeps_spaces_and_escaped_quotes():
    (matcher,) = parse_matchers(r'summary="disk \"/\" full"')
    assert matcher.value == 'disk "/" full'


def test_invalid_regex_is_an_error_naming_it():
    with pytest.raises(MatcherError, match="invalid regex"):
        parse_matchers('severity=~"crit("')


def test_garbage_is_an_error_not_a_silent_match_all():
    with pytest.raises(MatcherError):
        parse_matchers("severity=crit ===")


def test_unknown_special_key_is_an_error():
    with pytest.raises(MatcherError, match="unknown key"):
        parse_matchers("@color=red")


def test_empty_filter_has_no_matchers():
    assert parse_matchers("   ") == ()


def test_acked_shorthand_means_state_acked():
    (matcher,) = parse_matchers("@acked")
    assert (matcher.name, matcher.op, matcher.value) == ("@state", Op.EQ, "acked")
