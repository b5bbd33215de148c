import pytest

from shiftdeck.domain.matchers import MatcherError, Op, make_matcher, parse_matchers


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


# --------------------------------------------------------------------------- #
# Alertmanager's regex semantics: RE2, anchored, linear time (issue 11)
# --------------------------------------------------------------------------- #

@pytest.mark.timeout(5)
def test_a_backtracking_bomb_runs_in_linear_time():
    (bomb,) = parse_matchers('pod=~"(a+)+b"')
    assert not bomb.matches({"pod": "a" * 5000 + "c"})
    assert bomb.matches({"pod": "aaab"})


def test_re2_syntax_is_understood():
    (matcher,) = parse_matchers(r'alertname=~"\pLidden"')
    assert matcher.matches({"alertname": "Hidden"})
    assert not matcher.matches({"alertname": "1idden"})


def test_regex_is_anchored_around_the_whole_alternation():
    (matcher,) = parse_matchers('severity=~"crit|warn"')
    assert matcher.matches({"severity": "warn"})
    assert not matcher.matches({"severity": "critical"})
    assert not matcher.matches({"severity": "crit\n"})  # `$` is the end of the text, as in Go


def test_a_regex_re2_refuses_is_still_a_typed_filter_error():
    with pytest.raises(MatcherError, match=r"invalid regex '\(a\)\\\\1'"):
        parse_matchers(r'pod=~"(a)\1"')


def test_a_regex_re2_refuses_from_a_server_is_kept_matching_nothing():
    for op in ("=~", "!~"):
        matcher = make_matcher("pod", op, r"(a)\1", lenient=True)
        assert matcher.problem.startswith("cannot evaluate: invalid escape sequence")
        assert not matcher.matches({"pod": "aa"}) and not matcher.matches({"pod": "b"})
    assert str(matcher) == r'pod!~"(a)\\1"'


def test_quoted_utf8_label_names_parse_and_print_quoted():
    dotted, spaced = parse_matchers(r'"service.name"="api", "größe \"x\""=~"1.*"')
    assert (dotted.name, dotted.value) == ("service.name", "api")
    assert spaced.name == 'größe "x"' and spaced.matches({'größe "x"': "12"})
    assert str(dotted) == '"service.name"="api"'
    assert parse_matchers(str(spaced)) == (spaced,)
    assert str(parse_matchers("alertname=X")[0]) == 'alertname="X"'


def test_muted_is_a_state_filter():
    (shorthand,) = parse_matchers("@muted")
    assert (shorthand.name, shorthand.value) == ("@state", "muted")


def test_state_words_are_the_alert_states():
    from shiftdeck.domain.alerts import AlertState
    from shiftdeck.domain.matchers import STATE_WORDS

    assert set(STATE_WORDS) == {state.value for state in AlertState}


def test_unknown_state_is_refused_with_the_valid_ones():
    with pytest.raises(MatcherError) as refused:
        parse_matchers("@state=bogus")
    assert str(refused.value) == ("@state=bogus: no such state; use one of: acked, firing, "
                                  "pending, silenced, muted, inhibited, resolved")
    assert parse_matchers("@state!=resolved")[0].value == "resolved"
    assert parse_matchers('@state=~"fir.*"')[0].is_regex  # a regex is not a state name


def test_unknown_level_is_refused_when_the_levels_are_known():
    with pytest.raises(MatcherError, match=r"^@level=P9: no such level; use one of: P1, P2$"):
        parse_matchers("@level=P9", levels=("P1", "P2"))
    assert parse_matchers("@level=P2", levels=("P1", "P2"))[0].value == "P2"
