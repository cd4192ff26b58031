"""A process that dies after its commit, while its event handlers run, loses no event: the
event waits in the outbox and ``deliver_pending`` delivers it (at least once). A process
that dies before its commit leaves neither the change nor its events."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from insurcrm.adapters.sql import SqlStore
from insurcrm.dispatch import EventHandlers
from insurcrm.domain.events import CustomerRegistered
from insurcrm.domain.repositories import OutboxEvent
from insurcrm.services.events import deliver_pending
from insurcrm.testing.contracts import DAY

#: Registers customer ``C1`` with a handler that kills the process (exit code 3) when it
#: is called; with ``before-commit`` the process dies (exit code 4) before the commit.
#: Exit code 0 would mean the handler was never called.
WRITER = textwrap.dedent(
    """
    import os, sys
    from insurcrm.adapters.sql import SqlStore
    from insurcrm.domain.events import CustomerRegistered
    from insurcrm.testing.contracts import make_customer

    url, when = sys.argv[1], sys.argv[2]
    store = SqlStore.open(url)
    store.handlers.subscribe(CustomerRegistered, lambda stored: os._exit(3))
    with store.unit_of_work() as uow:
        uow.customers.add(make_customer("C1"))
        if when == "before-commit":
            os._exit(4)
        uow.commit()
    print("the handler was not called")
    """
)

#: Delivers the pending events with a handler that kills the process after it ran for the
#: first event (exit code 5), before the delivery is marked.
DELIVERER = textwrap.dedent(
    """
    import os, sys
    from insurcrm.adapters.sql import SqlStore
    from insurcrm.dispatch import EventHandlers
    from insurcrm.domain.events import CustomerRegistered
    from insurcrm.services.events import deliver_pending

    url, log = sys.argv[1], sys.argv[2]
    store = SqlStore.open(url)

    def handle(stored):
        with open(log, "a", encoding="utf-8") as f:
            f.write(stored.id + "\\n")
        os._exit(5)

    handlers = EventHandlers()
    handlers.subscribe(CustomerRegistered, handle)
    deliver_pending(store.unit_of_work(), handlers)
    print("the handler was not called")
    """
)


def _run(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _store(tmp_path: Path) -> tuple[str, SqlStore]:
    url = f"sqlite:///{tmp_path / 'crash.db'}"
    return url, SqlStore.open(url, upgrade=True)


def _pending(store: SqlStore) -> list[OutboxEvent]:
    with store.unit_of_work() as uow:
        return list(uow.outbox.pending(limit=1000))


def test_a_process_killed_while_dispatching_leaves_its_event_pending(tmp_path: Path) -> None:
    url, store = _store(tmp_path)
    died = _run(WRITER, url, "after-commit")
    assert died.returncode == 3, died.stdout + died.stderr
    with store.unit_of_work() as uow:
        assert uow.customers.get("C1").version == 1  # the commit happened
    (waiting,) = _pending(store)
    assert waiting.event == CustomerRegistered("C1", DAY)
    assert not waiting.delivered

    seen: list[OutboxEvent] = []
    handlers = EventHandlers()
    handlers.subscribe(CustomerRegistered, seen.append)
    assert deliver_pending(store.unit_of_work(), handlers) == 1
    assert seen == [waiting]
    assert _pending(store) == []
    assert deliver_pending(store.unit_of_work(), handlers) == 0
    assert seen == [waiting]  # exactly once
    with store.unit_of_work() as uow:
        assert uow.outbox.count_pending() == 0
    store.dispose()


def test_a_process_killed_while_delivering_delivers_again(tmp_path: Path) -> None:
    url, store = _store(tmp_path)
    assert _run(WRITER, url, "after-commit").returncode == 3
    (waiting,) = _pending(store)
    log = tmp_path / "handled.log"
    died = _run(DELIVERER, url, str(log))
    assert died.returncode == 5, died.stdout + died.stderr
    assert log.read_text(encoding="utf-8").split() == [waiting.id]
    assert _pending(store) == [waiting]  # the handler ran, the mark was lost
    seen: list[OutboxEvent] = []
    handlers = EventHandlers()
    handlers.subscribe(CustomerRegistered, seen.append)
    assert deliver_pending(store.unit_of_work(), handlers) == 1
    assert [s.id for s in seen] == [waiting.id]  # at least once: the consumer de-duplicates
    assert _pending(store) == []
    store.dispose()


def test_a_process_killed_before_its_commit_leaves_nothing(tmp_path: Path) -> None:
    url, store = _store(tmp_path)
    died = _run(WRITER, url, "before-commit")
    assert died.returncode == 4, died.stdout + died.stderr
    with store.unit_of_work() as uow:
        assert uow.customers.count() == 0
        assert uow.outbox.count_pending() == 0
        assert list(uow.outbox.pending()) == []
    seen: list[OutboxEvent] = []
    handlers = EventHandlers()
    handlers.subscribe(CustomerRegistered, seen.append)
    assert deliver_pending(store.unit_of_work(), handlers) == 0
    assert seen == []
    store.dispose()
