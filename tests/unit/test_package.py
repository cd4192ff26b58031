"""The package's public face."""

from __future__ import annotations

import subprocess
import sys

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
