"""The public contracts as an Open Contracting Data Standard 1.1 release package (notice §六(一):
公开购买服务的相关信息). Pure: rows in, a JSON-ready dict out; amounts stay ``Decimal`` and are written
as JSON numbers digit for digit (``money.exact_json``).

One contracting process per contract: its ``ocid`` is the deployment's prefix and the contract id, its
release id adds the contract's version, so every change publishes a new release of the same process.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.contract_api.public.store import Disclosed

# OCDS contract.status (closed codelist): not yet signed, in force, ended.
CONTRACT_STATUS = {
    "draft": "pending", "authorized": "pending", "signed": "active", "filed": "active",
    "acknowledged": "active", "active": "active", "suspended": "active", "completed": "terminated",
    "terminated": "terminated",
}  # fmt: skip
# OCDS procurementMethod (closed codelist) for 政府采购法's methods.
METHOD = {
    "public_tender": "open",
    "competitive_consultation": "selective",
    "competitive_negotiation": "selective",
    "single_source": "direct",
}
METHOD_DETAILS = {
    "public_tender": "公开招标",
    "competitive_consultation": "竞争性磋商",
    "competitive_negotiation": "竞争性谈判",
    "single_source": "单一来源采购",
}


def _tag(status: str) -> list[str]:
    if status in ("draft", "authorized"):
        return ["award"]
    if status == "terminated":
        return ["contractTermination"]
    return ["contract"]


def _value(amount: Any) -> dict[str, Any] | None:
    return None if amount is None else {"amount": amount, "currency": "CNY"}


def _compact(d: dict[str, Any]) -> dict[str, Any]:
    """OCDS fields are omitted rather than null."""
    return {k: v for k, v in d.items() if v is not None}


def release(c: Disclosed, prefix: str, tenderers: int | None) -> dict[str, Any]:
    ocid = f"{prefix}-{c.contract_id}"
    buyer = {"id": f"CN-GOV-{c.county_code}", "name": f"{c.county_name}民政局"}
    supplier = {"id": f"CN-USCC-{c.uscc}", "name": c.contractor_name}
    award_id = f"{ocid}-award"
    address = {"region": c.county_code, "countryName": "中国"}
    identifier = {"scheme": "CN-USCC", "id": c.uscc, "legalName": c.contractor_name}
    parties = [
        {**buyer, "roles": ["buyer", "procuringEntity"], "address": address},
        {**supplier, "identifier": identifier, "roles": ["supplier", "tenderer"]},
    ]
    tender = _compact({
        "id": f"{ocid}-tender" if c.procurement_id is None else str(c.procurement_id),
        "title": f"{c.county_name}政府购买社会救助服务",
        "status": "complete",
        "procurementMethod": METHOD.get(c.method or ""),
        "procurementMethodDetails": METHOD_DETAILS.get(c.method or ""),
        "awardCriteria": "bestProposal" if c.method else None,  # 综合评分法, never lowest price alone
        "value": _value(c.budget_ceiling),
        "numberOfTenderers": tenderers,
    })  # fmt: skip
    award = _compact({
        "id": award_id, "status": "active", "date": f"{c.awarded_on.isoformat()}T00:00:00+08:00",
        "value": _value(c.amount), "suppliers": [supplier],
    })  # fmt: skip
    period = _compact(
        {
            "startDate": f"{c.start_date.isoformat()}T00:00:00+08:00" if c.start_date else None,
            "endDate": f"{c.end_date.isoformat()}T23:59:59+08:00" if c.end_date else None,
        }
    )
    contract = _compact({
        "id": str(c.contract_id), "awardID": award_id, "status": CONTRACT_STATUS[c.status],
        "value": _value(c.amount), "period": period or None,
        "dateSigned": f"{c.signed_on.isoformat()}T00:00:00+08:00" if c.signed_on else None,
    })  # fmt: skip
    return {
        "ocid": ocid,
        "id": f"{ocid}-v{c.version}",
        "date": c.updated_at.isoformat(),
        "tag": _tag(c.status),
        "initiationType": "tender",
        "parties": parties,
        "buyer": buyer,
        "tender": tender,
        "awards": [award],
        "contracts": [contract],
    }


def package(
    rows: list[Disclosed],
    *,
    prefix: str,
    uri: str,
    publisher: str,
    published: datetime,
    tenderers: dict[int, int],
) -> dict[str, Any]:
    """``published`` is the latest change among the rows, so an unchanged package keeps its bytes
    (and its ETag) between requests."""
    return {
        "uri": uri,
        "version": "1.1",
        "publishedDate": published.isoformat(),
        "publisher": {"name": publisher},
        "releases": [
            release(c, prefix, tenderers.get(c.procurement_id) if c.procurement_id else None) for c in rows
        ],
    }
