"""A large answer polled again is read item by item: each item's bytes are decoded alone, an
item whose bytes did not change is its previous Alert without being decoded, and whatever the
bytes hold (separators inside strings, lists of objects, pretty-printing, broken JSON) the
result is exactly what decoding the whole answer gives."""

import copy
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shiftdeck.domain.intern import CleanCache
from shiftdeck.sources.alertmanager import (JOINED_BYTES, JOINED_MAX, Progress,
                                            parse_alert_answer, parse_alert_items, parse_alerts)
from shiftdeck.sources.http import Answer
from shiftdeck.sources.json_items import NotItems, items

from .support import hostile

HOSTILE = hostile.texts(Path("/nonexistent") / hostile.MARKER_NAME)


def _raw(i: int, **changes) -> dict:
    item = {
        "annotations": {"summary": f"disk low on pod-{i}"},
        "endsAt": "2026-11-22T14:00:00Z", "fingerprint": f"{i:016x}",
        "receivers": [{"name": "team"}], "startsAt": "2026-11-22T13:00:00Z",
        "status": {"inhibitedBy": [], "silencedBy": [], "state": "active"},
        "updatedAt": "2026-11-22T13:00:00Z",
        "generatorURL": "http://prom:9090/graph?g0.expr=up&g0.tab=1",
        "labels": {"alertname": "DiskLow", "severity": "warning", "pod": f"pod-{i}"},
    }
    item.update(changes)
    return item


def _body(payload) -> bytes:
    return orjson.dumps(payload)  # compact, as Alertmanager's Go encoder writes


def _same_as_whole(body: bytes, previous=None):
    by_items = parse_alert_items(body, "am0", previous, CleanCache())
    whole = parse_alerts(orjson.loads(body), "am0", previous, CleanCache())
    assert by_items.alerts == whole.alerts
    assert by_items.skipped == whole.skipped
    return by_items


def test_each_item_is_one_slice_of_the_answer():
    payload = [_raw(i) for i in range(3)]
    assert [orjson.loads(s) for s in items(_body(payload))] == payload
    assert list(items(b" []\n")) == []


def test_an_unchanged_item_is_its_previous_alert_without_being_decoded():
    first = parse_alert_items(_body([_raw(i) for i in range(3)]), "am0")
    again = [_raw(0), _raw(1, annotations={"summary": "worse"}), _raw(2)]
    second = parse_alert_items(_body(again), "am0", first, CleanCache())
    assert [a is b for a, b in zip(first.alerts, second.alerts)] == [True, False, True]
    assert second.alerts[1].annotations["summary"] == "worse"
    # Not decoded: an unchanged item's digest finds its alert, and the digests carried over.
    assert set(first.by_digest) & set(second.by_digest) and len(second.by_digest) == 3


def test_an_item_resent_with_new_times_only_is_decoded_and_still_the_same_alert():
    first = parse_alert_items(_body([_raw(0)]), "am0")
    resent = _raw(0, updatedAt="2026-11-22T13:01:00Z", endsAt="2026-11-22T14:01:00Z")
    second = parse_alert_items(_body([resent]), "am0", first, CleanCache())
    assert second.alerts[0] is first.alerts[0]
    assert set(second.by_digest).isdisjoint(first.by_digest)


def test_another_instance_never_reuses_the_alerts():
    first = parse_alert_items(_body([_raw(0)]), "am0")
    other = parse_alert_items(_body([_raw(0)]), "am1", first, CleanCache())
    assert other.alerts[0] is not first.alerts[0]
    assert other.alerts[0].instances == ("am1",)


@pytest.mark.parametrize("tricky", [
    {"summary": '},{"fingerprint":"0000000000000009"}'},         # the separator in a string
    {"summary": '\\"},{\\"', "description": '"}]'},              # escaped quotes, a bracket
    {"summary": '{"a":1},{"b":2}'},
])
def test_separators_inside_strings_leave_the_items_whole(tricky):
    payload = [_raw(0, annotations=tricky), _raw(1)]
    result = _same_as_whole(_body(payload))
    assert result.alerts[0].annotations["summary"] == tricky["summary"]
    assert len(result.by_digest) == 2  # read item by item, not decoded whole


def test_a_list_of_objects_inside_an_item_is_joined_back_into_the_item():
    two_receivers = _raw(0, receivers=[{"name": "team"}, {"name": "pager"}])
    body = _body([two_receivers, _raw(1), _raw(2, receivers=[{"name": n} for n in "abcd"])])
    assert len(list(items(body))) == 7  # cut inside the items: those slices do not decode
    result = _same_as_whole(body)
    assert result.alerts[0].receivers == ("team", "pager")
    assert len(result.by_digest) == 3  # read item by item, not decoded whole
    again = parse_alert_items(body, "am0", result, CleanCache())
    assert all(a is b for a, b in zip(result.alerts, again.alerts))


def test_an_item_cut_in_more_slices_than_are_joined_is_decoded_whole():
    many = _raw(0, receivers=[{"name": f"r{i}"} for i in range(JOINED_MAX + 1)])
    body = _body([many, _raw(1)])
    with pytest.raises(NotItems):
        parse_alert_items(body, "am0")
    answer = Answer(200, "OK", {}, body)  # type: ignore[arg-type]
    assert parse_alert_answer(answer, "am0").alerts[0].receivers[-1] == f"r{JOINED_MAX}"


def test_an_item_cut_in_slices_larger_than_are_joined_is_decoded_whole():
    """Each try decodes the joined slices again: huge ones are not tried over and over."""
    huge = _raw(0, annotations={"summary": "x" * JOINED_BYTES},
                receivers=[{"name": "team"}, {"name": "pager"}])
    body = _body([huge, _raw(1)])
    with pytest.raises(NotItems):
        parse_alert_items(body, "am0")
    answer = Answer(200, "OK", {}, body)  # type: ignore[arg-type]
    assert parse_alert_answer(answer, "am0").alerts[0].receivers == ("team", "pager")


@pytest.mark.parametrize("body", [
    b'{"alerts": []}', b'[ ]', b'[1, 2]', b"[]x", b"", b"[", b'[{"a":1}, {"b":2}]',
    b'[\n  {"labels": {"a": "b"}, "startsAt": "2026-11-22T13:00:00Z"}\n]',
])
def test_answers_that_are_not_compact_arrays_of_objects_are_not_split(body):
    with pytest.raises(NotItems):
        parse_alert_items(body, "am0")


def test_hostile_strings_are_cleaned_as_the_whole_answer_cleans_them():
    payload = [_raw(i, annotations={"summary": text}) for i, text in enumerate(HOSTILE)]
    first = _same_as_whole(_body(payload))
    again = copy.deepcopy(payload)
    second = _same_as_whole(_body(again), first)
    assert all(a is b for a, b in zip(first.alerts, second.alerts))


def test_malformed_items_are_skipped_and_counted_as_a_whole_decode_skips_them():
    payload = [_raw(0), {"labels": "not a map"}, {"startsAt": "no labels"}, _raw(1)]
    result = _same_as_whole(_body(payload))
    assert result.skipped == 2


TEXT = st.text(alphabet=st.sampled_from('ab{}[],:"\\ \n\u202e\x1b'), max_size=12)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(TEXT, TEXT, st.booleans()), max_size=6))
def test_any_answer_reads_as_the_whole_answer_reads(specs):
    payload = [_raw(i, annotations={"summary": a}, labels={"alertname": b, "pod": f"p{i}"},
                    **({"receivers": [{"name": "x"}, {"name": "y"}]} if two else {}))
               for i, (a, b, two) in enumerate(specs)]
    body = _body(payload)
    whole = parse_alerts(orjson.loads(body), "am0", None, CleanCache())
    assert parse_alert_items(body, "am0", None, CleanCache()).alerts == whole.alerts


def test_progress_is_handed_the_alerts_in_order_while_they_are_parsed():
    handed: list[list[str]] = []
    body = _body([_raw(i) for i in range(5)] + [{"labels": "malformed"}])
    batch = parse_alert_items(body, "am0", progress=Progress(
        2, lambda alerts: handed.append([a.labels["pod"] for a in alerts])))
    assert handed == [["pod-0", "pod-1"], ["pod-2", "pod-3"]]  # pod-4: only in the batch
    assert [a.labels["pod"] for a in batch.alerts] == [f"pod-{i}" for i in range(5)]
    assert batch.skipped == 1


def test_an_answer_whose_every_item_is_unchanged_gives_back_the_very_batch():
    first = parse_alert_items(_body([_raw(i) for i in range(4)]), "am0")
    assert parse_alert_items(_body([_raw(i) for i in range(4)]), "am0", first) is first
    empty = parse_alert_items(b"[]", "am0")
    assert parse_alert_items(b"[]", "am0", empty) is empty


@pytest.mark.parametrize("changed", [
    [0, 1, 2, 3, 4],                 # one more at the end
    [0, 1, 2],                       # one fewer at the end
    [1, 2, 3],                       # one fewer at the start
    [0, 2, 1, 3],                    # two swapped
    [0, 1, "new", 3],                # one changed in the middle
    [0, 1, 1, 2, 3],                 # the same item twice
    [0, "malformed", 2, 3],
])
def test_an_answer_that_differs_anywhere_reads_as_a_fresh_one(changed):
    first = parse_alert_items(_body([_raw(i) for i in range(4)]), "am0")
    payload = [_raw(i) if isinstance(i, int) else
               {"labels": "x"} if i == "malformed" else _raw(9, annotations={"summary": i})
               for i in changed]
    again = parse_alert_items(_body(payload), "am0", first, CleanCache())
    fresh = parse_alert_items(_body(payload), "am0")
    assert again is not first
    assert (again.alerts, again.skipped, set(again.by_digest)) == \
        (fresh.alerts, fresh.skipped, set(fresh.by_digest))
