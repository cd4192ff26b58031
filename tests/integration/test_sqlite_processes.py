"""Two processes writing the same SQLite file never lose an update."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

from insurcrm.adapters.sql import SqlStore
from insurcrm.testing.contracts import make_customer

WRITER = textwrap.dedent(
    """
    import sys, time, datetime as dt
    from pathlib import Path
    from insurcrm.adapters.sql import SqlStore
    from insurcrm.errors import ConcurrencyError

    url, name, flags = sys.argv[1], sys.argv[2], Path(sys.argv[3])

    def wait_for(flag):
        deadline = time.monotonic() + 60
        while not (flags / flag).exists():
            if time.monotonic() > deadline:
                sys.exit("timed out waiting for " + flag)
            time.sleep(0.01)

    store = SqlStore.open(url)
    with store.unit_of_work() as uow:
        customer = uow.customers.get("C1")
        (flags / ("read-" + name)).touch()
        wait_for("go-" + name)
        try:
            uow.customers.save(customer.updated(dt.date(2024, 3, 1), csr_id=name))
            uow.commit()
        except ConcurrencyError:
            print("conflict")
        else:
            print("saved")
    """
)


def _wait(path: Path) -> None:
    deadline = time.monotonic() + 60
    while not path.exists():
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.01)


def test_two_processes_on_one_sqlite_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    store = SqlStore.open(url, upgrade=True)
    with store.unit_of_work() as uow:
        uow.customers.add(make_customer("C1"))
        uow.commit()
    flags = tmp_path / "flags"
    flags.mkdir()
    writers = {
        name: subprocess.Popen(
            [sys.executable, "-c", WRITER, url, name, str(flags)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("A", "B")
    }
    _wait(flags / "read-A")
    _wait(flags / "read-B")  # both hold version 1
    (flags / "go-A").touch()
    out_a, err_a = writers["A"].communicate(timeout=60)
    (flags / "go-B").touch()
    out_b, err_b = writers["B"].communicate(timeout=60)
    assert (writers["A"].returncode, writers["B"].returncode) == (0, 0), err_a + err_b
    assert (out_a.strip(), out_b.strip()) == ("saved", "conflict")
    with store.unit_of_work() as uow:
        stored = uow.customers.get("C1")
    assert (stored.csr_id, stored.version) == ("A", 2)
