"""Reading result batches ahead in a thread: every item in order, errors raised to the
caller, and nothing read after the caller stops."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from insurcrm.adapters.sql.read_ahead import read_ahead


@given(st.lists(st.integers()), st.integers(1, 4))
def test_every_item_comes_in_order(items: list[int], depth: int) -> None:
    assert list(read_ahead(iter(items), depth)) == items


def test_an_error_reading_is_raised_to_the_caller() -> None:
    def parts() -> Iterator[int]:
        yield 1
        raise OSError("disk gone")

    stream = read_ahead(parts())
    assert next(stream) == 1
    with pytest.raises(OSError, match="disk gone"):
        next(stream)


def test_nothing_is_read_after_the_caller_stops() -> None:
    read: list[int] = []
    readers: set[str] = set()

    def parts() -> Iterator[int]:
        for i in range(1000):
            readers.add(threading.current_thread().name)
            read.append(i)
            yield i

    stream = read_ahead(parts(), depth=2)
    assert [next(stream), next(stream)] == [0, 1]
    stream.close()
    done = len(read)
    assert done <= 2 + 2 + 1  # the two taken, two waiting in the box, one being put
    assert readers == {"insurcrm-read-ahead"}
    assert not any(t.name == "insurcrm-read-ahead" for t in threading.enumerate())
    assert len(read) == done
