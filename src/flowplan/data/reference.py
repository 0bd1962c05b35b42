"""Small reference lists shipped with the package (no network look-ups)."""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources


@cache
def region_codes() -> dict[str, str]:
    """NHS England region name → region code (e.g. "London" → "Y56")."""
    text = resources.files("flowplan.data").joinpath("regions.csv").read_text(encoding="utf-8")
    return {row["name"]: row["code"] for row in csv.DictReader(text.splitlines())}


def region_names() -> dict[str, str]:
    """NHS England region code → name."""
    return {code: name for name, code in region_codes().items()}
