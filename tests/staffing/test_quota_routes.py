"""POST /api/v1/quotas/compute and the rule sets (acceptance.md, *Quotas*)."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import Tokens

ACCEPTANCE = [
    ("county", {"dibao_recipients": 0}, 3, None),
    ("county", {"dibao_recipients": 30_000}, 3, None),
    ("county", {"dibao_recipients": 30_001}, 4, None),
    ("county", {"dibao_recipients": 45_000}, 5, None),
    ("township", {"dibao_recipients": 0}, 1, 2),
    ("township", {"dibao_recipients": 1_500}, 1, 2),
    ("township", {"dibao_recipients": 1_501}, 2, 2),
    ("township", {"dibao_recipients": 3_000}, 2, 4),
    ("township", {"dibao_recipients": 12_000}, 8, 15),
    ("village", {"population": 4_999}, 1, 1),
    ("village", {"population": 5_000}, 1, 2),
    ("village", {"population": 10_000}, 1, 3),
]


@pytest.mark.parametrize(("level", "figures", "minimum", "maximum"), ACCEPTANCE)
async def test_acceptance_table(
    api: httpx.AsyncClient,
    tokens: Tokens,
    level: str,
    figures: dict[str, int],
    minimum: int,
    maximum: int | None,
) -> None:
    r = await api.post(
        "/api/v1/quotas/compute",
        json={"level": level, **figures},
        headers=tokens.headers("worker", "530102001001", org_id="1"),
    )
    assert r.status_code == 200, r.text
    assert (r.json()["required_min"], r.json()["allowed_max"]) == (minimum, maximum)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"level": "county"}, "FIGURE_REQUIRED"),
        ({"level": "village", "dibao_recipients": 10}, "FIGURE_REQUIRED"),
        ({"level": "county", "dibao_recipients": -1}, "VALIDATION_FAILED"),
        ({"level": "prefecture", "dibao_recipients": 1}, "VALIDATION_FAILED"),
        ({"level": "county", "dibao_recipients": 1, "rule_set_id": 999}, "RULE_SET_NOT_FOUND"),
    ],
)
async def test_compute_errors(
    api: httpx.AsyncClient, tokens: Tokens, body: dict[str, object], code: str
) -> None:
    r = await api.post("/api/v1/quotas/compute", json=body, headers=tokens.headers())
    assert r.status_code == 422 and r.json()["code"] == code


async def test_compute_needs_a_token(api: httpx.AsyncClient) -> None:
    assert (
        await api.post("/api/v1/quotas/compute", json={"level": "county", "dibao_recipients": 1})
    ).status_code == 401


async def test_rule_sets_are_versioned_data(api: httpx.AsyncClient, tokens: Tokens) -> None:
    listed = (await api.get("/api/v1/staffing-rule-sets", headers=tokens.headers("auditor", "53"))).json()
    assert [r["effective_from"] for r in listed] == ["2019-01-08"]
    assert listed[0]["parameters"]["township"]["recipients_per_staff_max"] == 800
    new = {
        "name": "假设的 2099 标准",
        "document": "test",
        "effective_from": "2099-01-01",
        "parameters": {
            "county": {"threshold": 20000, "minimum_at_or_below": 4, "recipients_per_staff": 8000}
        },
    }
    assert (
        await api.post(
            "/api/v1/staffing-rule-sets", json=new, headers=tokens.headers("county_official", "530102")
        )
    ).status_code == 403
    created = await api.post("/api/v1/staffing-rule-sets", json=new, headers=tokens.headers())
    assert created.status_code == 201, created.text
    rid = created.json()["id"]
    again = await api.post("/api/v1/staffing-rule-sets", json=new, headers=tokens.headers())
    assert again.status_code == 409 and again.json()["code"] == "RULE_SET_EXISTS"
    bad = await api.post(
        "/api/v1/staffing-rule-sets",
        json={**new, "effective_from": "2098-01-01", "parameters": {"rounding": "sideways"}},
        headers=tokens.headers(),
    )
    assert bad.status_code == 422
    # Today the 2019 set is in effect (the new one starts in 2099); the new one applies when asked for.
    today = await api.post(
        "/api/v1/quotas/compute",
        json={"level": "county", "dibao_recipients": 20000},
        headers=tokens.headers(),
    )
    assert today.json()["required_min"] == 3
    later = await api.post(
        "/api/v1/quotas/compute",
        json={"level": "county", "dibao_recipients": 20000, "rule_set_id": rid},
        headers=tokens.headers(),
    )
    assert later.json()["required_min"] == 4
    assert (await api.get(f"/api/v1/staffing-rule-sets/{rid}", headers=tokens.headers())).json()[
        "name"
    ] == new["name"]
