"""Quota summary of the whole province, and a 500-item work-log batch, through the gateway.

    .venv/bin/python bench/quota_summary.py [--calls 30]

Starts `jiuzhu up` in a temporary data directory (all 16,495 units with demo figures), adds one
active contract per county and about 15,000 active dispatches straight into the database (contract_api
has no endpoints yet; staffing.md allows this), then times sequential calls.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._stack import running_stack
from services.common.database import start_embedded
from services.common.months import business_today

SEED = """
INSERT INTO contracts (county_code, contractor_id, status, start_date, end_date)
  SELECT code, 1, 'active', DATE '2025-01-01', DATE '2027-12-31' FROM regions WHERE level = 'county';
-- One person per posting: 90 % of villages (coverage below 100 %), every township, every county.
CREATE TEMP TABLE posting AS
  SELECT code, level FROM regions
  WHERE (level = 'village' AND abs(hashtext(code)) % 10 <> 0) OR level IN ('township', 'county');
INSERT INTO persons (name, id_number_hash, id_number_encrypted, id_number_masked, birth_date, education, region_code)
  SELECT 'bench', sha256(convert_to(code, 'UTF8')), '\\x00', '530000********0000', DATE '1990-01-01',
         'junior_high', code FROM posting;
INSERT INTO dispatches (contract_id, person_id, posting_level, region_code, monthly_wage, start_date,
                        labor_contract_signed_on)
  SELECT c.id, p.id, po.level, po.code, 2850.00, DATE '2025-01-01', DATE '2025-01-01'
  FROM posting po
  JOIN persons p ON p.region_code = po.code
  JOIN contracts c ON c.county_code = substr(po.code, 1, 6);
ANALYZE;
"""


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=30, help="summary calls (at least 20)")
    parser.add_argument("--batches", type=int, default=10, help="500-item batches")
    args = parser.parse_args()
    with running_stack({"JIUZHU_RATE_PER_SUB": "1000", "JIUZHU_BURST_PER_SUB": "1000"}) as stack:
        server = start_embedded(stack.data_dir / "pg", stop_on_exit=False)
        server.psql(f"\\c jiuzhu\n{SEED}")
        counts = server.psql("\\c jiuzhu\nSELECT count(*) FROM dispatches;")
        dispatches = int(next(line for line in counts.splitlines() if line.strip().isdigit()))
        village = server.psql(
            "\\c jiuzhu\nSELECT d.id || ' ' || d.person_id FROM dispatches d WHERE posting_level = 'village' LIMIT 1;"
        )
        dispatch_id, person_id = next(
            line.split()
            for line in village.splitlines()
            if " " in line.strip() and line.strip().split()[0].isdigit()
        )
        admin = {"Authorization": f"Bearer {stack.token('province_admin', '53', sub='bench-admin')}"}
        worker = {"Authorization": f"Bearer {stack.token('worker', '53', sub=person_id)}"}
        with httpx.Client(base_url=stack.gateway, timeout=30) as client:
            first = client.get("/api/v1/quota-summary/53", headers=admin)
            first.raise_for_status()
            summary_ms = []
            for _ in range(max(20, args.calls)):
                t = time.perf_counter()
                r = client.get("/api/v1/quota-summary/53", headers=admin)
                summary_ms.append((time.perf_counter() - t) * 1000)
                r.raise_for_status()
            today = business_today(datetime.now(UTC))
            batch_ms = []
            for b in range(args.batches):
                items = [
                    {
                        "client_id": str(uuid.uuid4()),
                        "dispatch_id": int(dispatch_id),
                        "duty_code": "policy_consultation",
                        "date": str(today - timedelta(days=(b * 500 + i) % 300)),
                        "quantity": 1,
                    }
                    for i in range(500)
                ]
                t = time.perf_counter()
                r = client.post("/api/v1/work-logs/batch", json={"items": items}, headers=worker)
                batch_ms.append((time.perf_counter() - t) * 1000)
                r.raise_for_status()
                assert all(x["status"] == "created" for x in r.json()["results"]), r.text[:300]
    body = first.json()
    print(
        f"province: {body['levels']}  village coverage {body['village_coverage']}  dispatches {dispatches}\n"
    )
    print(f"{'measure':<48} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for name, values in (
        ("GET /api/v1/quota-summary/53 (gateway)", summary_ms),
        ("POST /api/v1/work-logs/batch, 500 items (gateway)", batch_ms),
    ):
        print(
            f"{name:<48} {len(values):>4} {statistics.median(values):>8.1f} {percentile(values, 0.95):>8.1f} "
            f"{max(values):>8.1f}"
        )


if __name__ == "__main__":
    main()
