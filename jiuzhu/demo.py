"""The demo data `jiuzhu up` and `jiuzhu seed` load, service by service: regions and statistics
(staffing_api), sign-in users (gateway), a contracted county (contract_api). And the demo principals
whose tokens `jiuzhu up` prints for that county's contractor and workers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.accounts import ensure_demo_users
from services.common.months import business_today
from services.common.pii import load_vault
from services.common.settings import Settings
from services.contract_api.seed import DemoCounty, seed_contracted_county
from services.staffing_api.seed import is_empty
from services.staffing_api.seed import seed as seed_regions


@dataclass(frozen=True)
class Seeded:
    lines: list[str]
    county: DemoCounty | None


async def seed(conn: AsyncConnection, settings: Settings, *, only_if_empty: bool) -> Seeded:
    lines = []
    if only_if_empty and not await is_empty(conn):
        lines.append("database already has data; regions and statistics left as they are")
    else:
        report = await seed_regions(conn)
        lines.append(f"seeded {report.regions_added} regions and {report.stats_added} demo statistics rows")
    county = await seed_contracted_county(conn, load_vault(settings), business_today(datetime.now(UTC)))
    lines.append(
        f"demo contracted county 五华区: contractor {county.contractor_id}, active contract "
        f"{county.contract_id}, {len(county.workers)} dispatched workers"
    )
    users = await ensure_demo_users(conn, settings.data_dir)
    lines.append(f"demo users (passwords kept in {settings.data_dir / 'demo-credentials.txt'}):")
    lines += [f"  {u.username:<16} {u.password}  {u.role} @ {u.region}" for u in users]
    return Seeded(lines, county)


def principals(county: DemoCounty | None) -> list[tuple[str, dict[str, Any]]]:
    """(label, token claims) for the demo contractor and each demo worker."""
    if county is None:
        return []
    org = str(county.contractor_id)
    out: list[tuple[str, dict[str, Any]]] = [
        (
            f"contractor {org} @ 530102",
            {"role": "contractor", "region": "530102", "org_id": org, "sub": f"contractor:{org}"},
        )
    ]
    out += [
        (
            f"worker {w.person_id} (dispatch {w.dispatch_id}) @ {w.village}",
            {"role": "worker", "region": w.village, "org_id": org, "sub": str(w.person_id)},
        )
        for w in county.workers
    ]
    return out
