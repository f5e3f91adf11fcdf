"""Seed: all 16,495 Yunnan units from the 2023 statistical division codes, and demo statistics.

Idempotent: existing rows are left alone, so a second run changes nothing. The demo figures are
generated deterministically from each code (no public source gives per-unit 低保 figures) and are
flagged ``demo = true`` so nobody mistakes them for official statistics.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from datetime import date
from importlib import resources

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.models import Region, RegionStats
from services.common.regions import DIRECTLY_ADMINISTERED

DEMO_MONTH = date(2026, 1, 1)


@dataclass(frozen=True)
class SeedReport:
    regions_added: int
    stats_added: int


def load_divisions() -> list[dict[str, object]]:
    path = resources.files("services.staffing_api") / "data" / "yunnan-divisions-2023.csv"
    with path.open(encoding="utf-8") as fh:
        return [
            {
                "code": r["code"],
                "name": r["name"],
                "level": r["level"],
                "kind": r["kind"],
                "parent_code": r["parent_code"] or None,
                "directly_administered": r["code"] in DIRECTLY_ADMINISTERED,
            }
            for r in csv.DictReader(fh)
        ]


def _draw(code: str, low: int, high: int) -> int:
    """A deterministic number in [low, high] from the code (the same on every machine)."""
    n = int.from_bytes(hashlib.sha256(f"jiuzhu-demo:{code}".encode()).digest()[:8], "big")
    return low + n % (high - low + 1)


def demo_stats(regions: list[dict[str, object]]) -> list[dict[str, object]]:
    """Plausible figures: 低保 per county (some above 30,000) and per township, population per village."""
    rows: list[dict[str, object]] = []
    for r in regions:
        code, level = str(r["code"]), r["level"]
        figures: dict[str, int | None] = {
            "dibao_recipients": None,
            "tekun_recipients": None,
            "population": None,
        }
        if level == "county":
            figures["dibao_recipients"] = _draw(code, 4_000, 42_000)
            figures["tekun_recipients"] = _draw(code + "t", 300, 3_000)
        elif level == "township":
            figures["dibao_recipients"] = _draw(code, 150, 4_500)
            figures["tekun_recipients"] = _draw(code + "t", 10, 300)
        elif level == "village":
            # Most villages are small; communities are bigger. Some cross the 5,000 and 10,000 tiers.
            high = 14_000 if r["kind"] == "community" else 7_000
            figures["population"] = _draw(code, 600, high)
        else:
            continue
        rows.append({"region_code": code, "month": DEMO_MONTH, "demo": True, **figures})
    return rows


async def seed(conn: AsyncConnection) -> SeedReport:
    """Insert what is missing, in bulk; run inside one transaction by the caller."""
    regions = load_divisions()
    known = set((await conn.execute(select(Region.code))).scalars())
    # Parents come before children in the file, so one ordered bulk insert satisfies the foreign key.
    missing = [r for r in regions if r["code"] not in known]
    if missing:
        await conn.execute(insert(Region), missing)
    have_stats = set((await conn.execute(select(RegionStats.region_code).distinct())).scalars())
    stats = [s for s in demo_stats(regions) if s["region_code"] not in have_stats]
    if stats:
        await conn.execute(insert(RegionStats), stats)
    return SeedReport(regions_added=len(missing), stats_added=len(stats))


async def is_empty(conn: AsyncConnection) -> bool:
    return (await conn.execute(select(Region.code).limit(1))).first() is None
