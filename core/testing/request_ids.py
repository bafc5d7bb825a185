"""Audit events made by a request carry its id (core/request_id.py): checking it in tests."""

from __future__ import annotations

from core.request_id import HEADER, SANE


def request_data(event, response=None) -> dict:
    """The event's data without `request_id`, once that id is checked: the answer's X-Request-ID
    when `response` is given, else a well-formed id (the request was one the test made)."""
    data = dict(event.data)
    request_id = data.pop("request_id", None)
    assert request_id and SANE.match(request_id), f"no request id in {event.data!r}"
    if response is not None:
        assert request_id == response[HEADER]
    return data
