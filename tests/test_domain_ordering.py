"""Display order kept from board to board: always what sorting everything again gives."""

import random
from dataclasses import replace
from datetime import timedelta

from shiftdeck.domain.alerts import AlertState
from shiftdeck.domain.ordering import order_alerts
from shiftdeck.domain.severity import DEFAULT_POLICY
from shiftdeck.domain.view import sort_key

from .support.factories import make_alert


def _key(alert):
    return sort_key(alert, DEFAULT_POLICY)


def _firing(alert):
    return alert.state is not AlertState.SILENCED


def _board(alerts):
    return {a.fingerprint: a for a in alerts}


def _alert(rnd, n):
    alert = make_alert(f"A{n}", rnd.choice(("critical", "warning", "info")), pod=str(n),
                       age=timedelta(minutes=rnd.randrange(1, 50)))
    return replace(alert, level=DEFAULT_POLICY.level_of(alert.labels).level)


def test_kept_order_equals_a_full_sort_over_a_storm_of_boards():
    rnd = random.Random(3)
    board = _board(_alert(rnd, n) for n in range(300))
    order = order_alerts(board, _firing, _key, "ctx")
    for step in range(60):
        board = dict(board)
        for fp in rnd.sample(sorted(board), 20):
            roll = rnd.random()
            if roll < 0.4:
                del board[fp]
            elif roll < 0.7:
                board[fp] = replace(board[fp], state=rnd.choice(list(AlertState)))
            else:
                board[fp] = replace(board[fp], starts_at=board[fp].starts_at - timedelta(hours=1))
        for n in range(step * 10 + 1000, step * 10 + 1000 + rnd.randrange(15)):
            alert = _alert(rnd, n)
            board[alert.fingerprint] = alert
        order = order_alerts(board, _firing, _key, "ctx", order)
        assert order.alerts == sorted(filter(_firing, board.values()), key=_key), step


def test_the_same_board_gives_the_same_order_object():
    rnd = random.Random(1)
    board = _board(_alert(rnd, n) for n in range(20))
    order = order_alerts(board, _firing, _key, "ctx")
    assert order_alerts(board, _firing, _key, "ctx", order) is order


def test_unchanged_alerts_keep_their_keys_and_are_not_keyed_again():
    rnd = random.Random(2)
    board = _board(_alert(rnd, n) for n in range(50))
    order = order_alerts(board, _firing, _key, "ctx")
    keyed = []

    def counting_key(alert):
        keyed.append(alert)
        return _key(alert)
    newer = dict(board)
    changed = replace(next(iter(board.values())), state=AlertState.PENDING)
    newer[changed.fingerprint] = changed
    order = order_alerts(newer, _firing, counting_key, "ctx", order)
    assert keyed == [changed]
    assert order.alerts == sorted(newer.values(), key=_key)


def test_another_context_sorts_again_with_its_own_filter_and_key():
    rnd = random.Random(4)
    board = _board(_alert(rnd, n) for n in range(40))
    order = order_alerts(board, _firing, _key, "by severity")
    by_name = order_alerts(board, lambda a: a.name < "A2", lambda a: (a.name, a.fingerprint),
                           "by name", order)
    assert by_name.alerts == sorted((a for a in board.values() if a.name < "A2"),
                                    key=lambda a: (a.name, a.fingerprint))


def test_with_the_views_filter_and_key_it_gives_select_rows_order():
    """What view.select_rows would use (see the lead's note): same rows, same order."""
    from shiftdeck.domain.matchers import parse_matchers
    from shiftdeck.domain.view import Grouping, _sort_key_of, alert_matches, select_rows
    rnd = random.Random(5)
    board = _board(_alert(rnd, n) for n in range(200))
    matchers = parse_matchers("severity=~'critical|warning'")
    order = None
    for step in range(10):
        board = dict(board)
        for fp in rnd.sample(sorted(board), 10):
            board[fp] = replace(board[fp], state=rnd.choice((AlertState.FIRING,
                                                             AlertState.PENDING)))
        order = order_alerts(board, lambda a: alert_matches(a, matchers),
                             _sort_key_of(DEFAULT_POLICY), (matchers, DEFAULT_POLICY), order)
        rows = select_rows(board.values(), matchers, Grouping.NONE, DEFAULT_POLICY)
        assert order.alerts == [row.alert for row in rows], step


def test_select_rows_given_order_for_equals_a_full_sort_poll_after_poll():
    from shiftdeck.domain.matchers import parse_matchers
    from shiftdeck.domain.view import Grouping, order_for, select_rows
    rnd = random.Random(9)
    board = _board(_alert(rnd, n) for n in range(300))
    for text in ("", "severity=critical", "@state=acked"):
        matchers = parse_matchers(text) if text else ()
        order = None
        for step in range(8):
            board = dict(board)
            for fp in rnd.sample(sorted(board), 20):
                board[fp] = replace(board[fp], state=rnd.choice(
                    (AlertState.FIRING, AlertState.PENDING, AlertState.RESOLVED)))
            order = order_for(board, matchers, DEFAULT_POLICY, order)
            fast = select_rows(board.values(), matchers, Grouping.ALERTNAME, DEFAULT_POLICY,
                               order=order)
            assert fast == select_rows(board.values(), matchers, Grouping.ALERTNAME,
                                       DEFAULT_POLICY), (text, step)
