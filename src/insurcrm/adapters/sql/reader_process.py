"""Reading the figures of a SQLite file in other processes.

SQLite runs a statement on one core, and two threads of one process reading at once
contend for the GIL (the driver takes and releases it for every row) and for SQLite's
own memory lock: two statements read by two threads took 13.3 s where each alone took
9.5 s. Read by two processes, they took 9.8 s. So a big book's figures are read by
reader processes, each running this module's :func:`main` and holding one connection and
its read transaction. Nothing of the caller's program is imported in them (no
``__main__`` is re-run, unlike :mod:`multiprocessing`).

The protocol, over the child's stdin and stdout, is pickled tuples. The parent sends the
URL (answered ``("ready",)`` once connected), then ``("begin",)`` (answered ``("begun",)``
once the transaction has read), then ``("figures", windows, config, index, n, size)`` for
each stream (answered with ``("batch", columns)`` messages and ``("end",)``),
``("cancel",)`` to stop a stream early and ``("stop",)`` to end. A failure is answered
``("error", text)``.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import queue
import subprocess
import sys
import threading
from collections.abc import Generator
from pathlib import Path
from typing import IO, Any

from insurcrm.errors import StorageError

__all__ = ["ReaderProcess", "ReaderUnavailable"]

#: What a reader process runs: this module's :func:`main`, and nothing of the caller's.
_ENTRY = "from insurcrm.adapters.sql.reader_process import main; main()"
#: The directory holding the insurcrm package this process runs.
_ROOT = str(Path(__file__).resolve().parents[3])


class ReaderUnavailable(StorageError):
    """A reader process could not be started (e.g. ``sys.executable`` is not a Python
    interpreter, as in some embedded servers)."""


class ReaderProcess:
    """A reader process on the SQLite database at ``url`` (the parent's side). It starts
    at once; :meth:`ready` waits until it can read."""

    def __init__(self, url: str) -> None:
        env = dict(os.environ)  # the child imports this very insurcrm, wherever it is
        env["PYTHONPATH"] = os.pathsep.join(filter(None, (_ROOT, env.get("PYTHONPATH"))))
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-c", _ENTRY],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env=env,
            )
        except OSError as error:
            raise ReaderUnavailable(f"cannot start a reader process: {error}") from None
        try:
            self._send(url)
        except StorageError as error:
            raise ReaderUnavailable(str(error)) from None

    def ready(self) -> None:
        """Wait until the process has imported insurcrm and connected to the database.

        Raises:
            ReaderUnavailable: it could not (it is stopped).
        """
        try:
            self._receive()
        except StorageError as error:
            self.close()
            raise ReaderUnavailable(str(error)) from None

    def _send(self, message: Any) -> None:
        stdin = self._process.stdin
        assert stdin is not None
        try:
            pickle.dump(message, stdin, protocol=pickle.HIGHEST_PROTOCOL)
            stdin.flush()
        except (BrokenPipeError, OSError):
            raise StorageError(self._gone()) from None

    def _receive(self) -> tuple[Any, ...]:
        stdout = self._process.stdout
        assert stdout is not None
        try:
            message: tuple[Any, ...] = pickle.load(stdout)
        except (EOFError, OSError, pickle.UnpicklingError):
            raise StorageError(self._gone()) from None
        if message[0] == "error":
            raise StorageError(f"reading the figures failed: {message[1]}")
        return message

    def _gone(self) -> str:
        return f"a reader process ended unexpectedly (exit code {self._process.poll()})"

    def begin(self) -> None:
        """Begin the read transaction and read once: the snapshot is taken on return."""
        self._send(("begin",))
        self._receive()

    def figures(
        self, windows: Any, config: Any, index: int, n: int, size: int
    ) -> Generator[dict[str, Any], None, None]:
        """The columns of the ``index``-th of the ``n`` figure statements, ``size`` rows
        at a time (as the parent's ``_columns`` gives them)."""
        self._send(("figures", windows, config, index, n, size))
        finished = False
        try:
            while True:
                try:
                    message = self._receive()
                except StorageError:
                    finished = True  # the child reported the failure and ended the stream
                    raise
                if message[0] == "end":
                    finished = True
                    return
                yield message[1]
        finally:
            if not finished and self._process.poll() is None:
                self._send(("cancel",))
                while self._receive()[0] != "end":  # at most the batches in flight
                    pass

    def close(self) -> None:
        """End the process (its transaction is rolled back)."""
        if self._process.poll() is None:
            try:
                self._send(("stop",))
                self._process.wait(timeout=10)
            except (StorageError, subprocess.TimeoutExpired):
                self._process.kill()
                self._process.wait()
        for pipe in (self._process.stdin, self._process.stdout):
            if pipe is not None:
                # a message the ended process did not take is still buffered: let it go
                with contextlib.suppress(OSError):
                    pipe.close()


def _commands(stdin: IO[bytes], box: queue.Queue[Any]) -> None:
    """Read the parent's messages into ``box`` (so a stream can see a cancel)."""
    while True:
        try:
            message = pickle.load(stdin)
        except EOFError:
            box.put(("stop",))
            return
        box.put(message)


def main() -> None:
    """The child: serve the parent's messages until it says stop or goes away; then
    exit the process."""
    from sqlalchemy import select

    from insurcrm.adapters.sql import tables as t
    from insurcrm.adapters.sql.engine import make_engine
    from insurcrm.adapters.sql.portfolio import figure_columns, figure_statements

    stdin = sys.stdin.buffer
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # nothing else writes to the parent

    def send(message: Any) -> None:
        pickle.dump(message, out, protocol=pickle.HIGHEST_PROTOCOL)
        out.flush()

    url = pickle.load(stdin)
    box: queue.Queue[Any] = queue.Queue()
    threading.Thread(target=_commands, args=(stdin, box), daemon=True).start()
    engine = make_engine(url)
    try:
        try:
            conn = engine.connect()
        except Exception as error:
            send(("error", f"cannot connect: {type(error).__name__}"))
            return
        send(("ready",))
        with conn:
            while True:
                message = box.get()
                kind = message[0]
                if kind == "stop":
                    return
                try:
                    if kind == "begin":
                        conn.begin()
                        conn.execute(select(t.customers.c.id).limit(1)).all()
                        send(("begun",))
                    elif kind == "figures":
                        _, windows, config, index, n, size = message
                        statement = figure_statements(windows, config, n)[index]
                        for columns in figure_columns(conn, statement, size):
                            waiting = None if box.empty() else box.queue[0][0]
                            if waiting == "cancel":
                                box.get()
                            if waiting in ("cancel", "stop"):  # a stop is served next
                                break
                            send(("batch", columns))
                        send(("end",))
                except OSError:  # the parent has gone: nobody to tell
                    return
                except Exception as error:
                    first = (str(error).splitlines() or [""])[0]
                    send(("error", f"{type(error).__name__}: {first}"))
    finally:
        engine.dispose()
        with contextlib.suppress(OSError):
            out.close()
        os._exit(0)  # at once: the thread reading the parent's messages may be waiting
