"""Demo data: one small contracted county, so a newcomer can walk the whole flow from `/docs` — a
social-work centre in 五华区 holding an active contract for three village posts, with a dispatched
assistant in each village. Written straight to the tables like the regions seed (bootstrap data, not
requests: no audit rows), idempotent by the contractor's USCC.

Every row satisfies the rules the API enforces: the contractor is eligible, the term is within three
years, each person meets §二(二) and each village stays within its ceiling (one assistant each).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common import idnumbers
from services.common.models import Contract, Contractor, Dispatch, Person, Region
from services.common.months import add_months
from services.common.pii import Vault
from services.common.uscc import compose

COUNTY, TOWNSHIP = "530102", "530102001"  # 五华区, its first subdistrict
DEMO_USCC = compose("52", COUNTY, "MJ5DEM01")
WAGE = Decimal("2850.00")
WORKERS = (
    ("演示协理员甲", date(1986, 3, 8)),
    ("演示协理员乙", date(1990, 7, 21)),
    ("演示协理员丙", date(1994, 11, 2)),
)
DECLARED = {"health_confirmed": True, "law_abiding_confirmed": True, "has_other_job": False}
# Same contexts as staffing_api's persons, so the API decrypts what the seed wrote.
ID_CONTEXT, PHONE_CONTEXT = "person.id_number", "person.phone"


@dataclass(frozen=True)
class DemoWorker:
    person_id: int
    dispatch_id: int
    village: str


@dataclass(frozen=True)
class DemoCounty:
    contractor_id: int
    contract_id: int
    workers: list[DemoWorker]


async def seed_contracted_county(conn: AsyncConnection, vault: Vault, today: date) -> DemoCounty:
    """Create the demo county's contractor, contract and dispatches once; later calls return them."""
    found = (await conn.execute(select(Contractor.id).where(Contractor.uscc == DEMO_USCC))).scalar()
    if found is not None:
        return await _existing(conn, int(found))
    villages = list(
        (
            await conn.execute(
                select(Region.code)
                .where(Region.code.startswith(TOWNSHIP), Region.level == "village")
                .order_by(Region.code)
                .limit(len(WORKERS))
            )
        ).scalars()
    )
    contractor_id = (
        await conn.execute(
            insert(Contractor)
            .values(
                name="五华区阳光社会工作服务中心", uscc=DEMO_USCC, org_type="social_organization",
                registration_authority="civil_affairs", registered_on=date(2019, 6, 1), employees=25,
                social_insurance_enrollees=25, address="昆明市五华区演示路 1 号", region_code=COUNTY,
            )
            .returning(Contractor.id)
        )
    ).scalar_one()  # fmt: skip
    start = today.replace(month=1, day=1)
    posts = [
        {"posting_level": "village", "region_code": v, "count": 1, "monthly_wage": f"{WAGE:.2f}"}
        for v in villages
    ]
    contract_id = (
        await conn.execute(
            insert(Contract)
            .values(
                county_code=COUNTY, contractor_id=contractor_id, status="active", start_date=start,
                end_date=add_months(start, 36) - timedelta(days=1), amount=WAGE * 12 * 3 * len(villages),
                posts=posts, payment_schedule="monthly", signed_on=start - timedelta(days=10),
                takeover_plan={"unit": "五华区民政局社会救助科", "contact": "救助科值班电话",
                               "summary": "承接主体不能履约时由救助科直接服务"},
                work_plan="每村配备一名社会救助协理员，每月入户走访低保、特困对象",
                acknowledged_by="prefecture_official:5301",
            )
            .returning(Contract.id)
        )
    ).scalar_one()  # fmt: skip
    workers = []
    for n, ((name, born), village) in enumerate(zip(WORKERS, villages, strict=False), start=1):
        number = idnumbers.compose(COUNTY, born, 900 + n)
        phone = f"1390000000{n}"
        person_id = (
            await conn.execute(
                insert(Person)
                .values(
                    name=name, id_number_hash=vault.digest(number),
                    id_number_encrypted=vault.encrypt(number, ID_CONTEXT),
                    id_number_masked=idnumbers.mask(number), birth_date=born,
                    gender=idnumbers.parse(number).gender, education="senior_high",
                    phone_encrypted=vault.encrypt(phone, PHONE_CONTEXT),
                    phone_masked=f"{phone[:3]}****{phone[-4:]}", region_code=village,
                    created_by_org_id=str(contractor_id),
                )
                .returning(Person.id)
            )
        ).scalar_one()  # fmt: skip
        dispatch_id = (
            await conn.execute(
                insert(Dispatch)
                .values(
                    contract_id=contract_id, person_id=person_id, posting_level="village",
                    region_code=village, monthly_wage=WAGE, start_date=start,
                    labor_contract_signed_on=start - timedelta(days=5), declarations=DECLARED,
                )
                .returning(Dispatch.id)
            )
        ).scalar_one()  # fmt: skip
        workers.append(DemoWorker(int(person_id), int(dispatch_id), village))
    return DemoCounty(int(contractor_id), int(contract_id), workers)


async def _existing(conn: AsyncConnection, contractor_id: int) -> DemoCounty:
    contract_id = (
        (
            await conn.execute(
                select(Contract.id).where(Contract.contractor_id == contractor_id).order_by(Contract.id)
            )
        )
        .scalars()
        .first()
    )
    if contract_id is None:
        return DemoCounty(contractor_id, 0, [])
    rows = await conn.execute(
        select(Dispatch.person_id, Dispatch.id, Dispatch.region_code)
        .where(Dispatch.contract_id == contract_id)
        .order_by(Dispatch.id)
    )
    return DemoCounty(contractor_id, int(contract_id), [DemoWorker(int(p), int(d), v) for p, d, v in rows])
