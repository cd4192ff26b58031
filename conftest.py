"""Runs every Python code block of the README and the docs as a test (Sybil).

Each document runs in a fresh temporary directory, so files it creates
(SQLite databases) do not litter the checkout.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

from sybil import Sybil
from sybil.parsers.markdown import PythonCodeBlockParser


def _enter_tmpdir(namespace: dict[str, Any]) -> None:
    namespace["_cwd"] = os.getcwd()
    namespace["_tmp"] = tempfile.TemporaryDirectory(prefix="insurcrm-docs-")
    os.chdir(namespace["_tmp"].name)


def _leave_tmpdir(namespace: dict[str, Any]) -> None:
    os.chdir(namespace["_cwd"])
    namespace["_tmp"].cleanup()


pytest_collect_file = Sybil(
    parsers=[PythonCodeBlockParser()],
    patterns=["README.md", "docs/**/*.md"],
    setup=_enter_tmpdir,
    teardown=_leave_tmpdir,
).pytest()
