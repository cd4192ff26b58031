"""The package's public face."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import insurcrm


def _isort_key(name: str) -> tuple[int, str]:
    """ruff's RUF022 order: CONSTANTS, then Classes, then everything else."""
    if name.isupper():
        return 0, name
    return (1 if name[0].isupper() else 2), name


def test_all_is_sorted_and_importable() -> None:
    assert insurcrm.__all__ == sorted(insurcrm.__all__, key=_isort_key)
    assert len(set(insurcrm.__all__)) == len(insurcrm.__all__)
    for name in insurcrm.__all__:
        assert hasattr(insurcrm, name), name


def test_importing_insurcrm_does_not_import_sqlalchemy() -> None:
    code = "import sys, insurcrm; print('sqlalchemy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_both_stores_type_check_as_what_the_services_take(tmp_path: Path) -> None:
    """A user's typed code passes our stores' units of work to the services: mypy must
    accept them as ``UnitOfWork`` and the stores as ``UnitOfWorkFactory``."""
    from mypy import api

    example = tmp_path / "uses_insurcrm.py"
    example.write_text(
        "from insurcrm.adapters.memory import MemoryStore\n"
        "from insurcrm.adapters.sql import SqlStore\n"
        "from insurcrm.domain.unit_of_work import UnitOfWork, UnitOfWorkFactory\n"
        "\n"
        "def takes(uow: UnitOfWork, store: UnitOfWorkFactory) -> None: ...\n"
        "\n"
        "memory = MemoryStore()\n"
        "takes(memory.unit_of_work(), memory)\n"
        "sql = SqlStore.open('sqlite://')\n"
        "takes(sql.unit_of_work(), sql)\n",
        encoding="utf-8",
    )
    out, err, status = api.run(
        ["--strict", "--no-incremental", "--cache-dir", os.devnull, str(example)]
    )
    assert status == 0, out + err
