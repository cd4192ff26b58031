"""Runs every Python code block of the README and the docs as a test (Sybil), and sets
the Hypothesis profile for every test, the docs' too: ``ci`` (more examples) when CI is
set, ``dev`` (quick) otherwise; choose one with ``HYPOTHESIS_PROFILE=ci pytest``.

Each document runs in a fresh temporary directory, so files it creates
(SQLite databases) do not litter the checkout.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

from hypothesis import HealthCheck, settings
from sybil import Sybil
from sybil.parsers.markdown import PythonCodeBlockParser

settings.register_profile(
    "ci",
    max_examples=200,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "dev",
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


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
