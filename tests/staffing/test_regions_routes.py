"""Region endpoints (staffing.md, *Regions*): roles, scope, validation — via gateway and direct."""

from __future__ import annotations

import io

import httpx
import pytest
from openpyxl import Workbook

from tests.conftest import Tokens


async def test_read_region_fields(api: httpx.AsyncClient, tokens: Tokens) -> None:
    r = await api.get("/api/v1/regions/530627", headers=tokens.headers())
    assert r.json() == {
        "code": "530627",
        "name": "镇雄县",
        "level": "county",
        "kind": "county",
        "parent_code": "5306",
        "directly_administered": True,
    }
    padded = await api.get("/api/v1/regions/530100", headers=tokens.headers())
    assert padded.json()["code"] == "5301"
    bad = await api.get("/api/v1/regions/12x", headers=tokens.headers())
    assert bad.status_code == 422
    assert bad.json()["code"] == "INVALID_REGION_CODE"


@pytest.mark.parametrize(
    ("role", "region", "code", "status"),
    [
        ("county_official", "530102", "530102", 200),
        ("county_official", "530102", "530102001", 200),
        ("county_official", "530102", "530103", 404),  # sibling county
        ("county_official", "530102", "5301", 404),  # its own prefecture: ancestors are out of scope
        ("county_official", "530102", "53", 404),
        ("prefecture_official", "5301", "530102", 200),  # a prefecture reads its counties
        ("prefecture_official", "5301", "530102001001", 200),
        ("prefecture_official", "5303", "530102", 404),  # sibling prefecture
        ("township_official", "530102001", "530102002", 404),
        ("auditor", "53", "530627", 200),
        ("county_official", "530102", "530102999", 404),  # does not exist: same answer as out of scope
    ],
)
async def test_region_scope(
    api: httpx.AsyncClient, tokens: Tokens, role: str, region: str, code: str, status: int
) -> None:
    r = await api.get(f"/api/v1/regions/{code}", headers=tokens.headers(role, region))
    assert r.status_code == status, r.text


async def test_service_account_needs_staffing_read(api: httpx.AsyncClient, tokens: Tokens) -> None:
    ok = await api.get("/api/v1/regions/53", headers=tokens.headers("service", "53", scope="staffing:read"))
    assert ok.status_code == 200
    no = await api.get("/api/v1/regions/53", headers=tokens.headers("service", "53", scope="events:read"))
    assert no.status_code == 403
    assert no.json()["code"] == "FORBIDDEN"


async def test_list_regions_scope_and_filters(api: httpx.AsyncClient, tokens: Tokens) -> None:
    h = tokens.headers("county_official", "530102")
    r = await api.get("/api/v1/regions", params={"level": "township"}, headers=h)
    items = r.json()["items"]
    assert items and all(i["code"].startswith("530102") and i["level"] == "township" for i in items)
    assert (await api.get("/api/v1/regions", params={"region": "5301"}, headers=h)).status_code == 404
    assert (await api.get("/api/v1/regions", params={"parent": "530103"}, headers=h)).status_code == 404
    prov = tokens.headers()
    children = (await api.get("/api/v1/regions", params={"parent": "53", "limit": 500}, headers=prov)).json()
    assert len(children["items"]) == 16 and children["next_cursor"] is None
    named = (await api.get("/api/v1/regions", params={"q": "五华", "level": "county"}, headers=prov)).json()[
        "items"
    ]
    assert [i["code"] for i in named] == ["530102"]


async def test_list_pagination_walks_everything_once(api: httpx.AsyncClient, tokens: Tokens) -> None:
    h = tokens.headers("county_official", "530102")
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 7}
        if cursor:
            params["cursor"] = cursor
        page = (await api.get("/api/v1/regions", params=params, headers=h)).json()
        seen += [i["code"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    everything = (await api.get("/api/v1/regions", params={"limit": 500}, headers=h)).json()["items"]
    assert seen == [i["code"] for i in everything] == sorted(seen)
    assert (await api.get("/api/v1/regions", params={"limit": 501}, headers=h)).status_code == 422
    assert (await api.get("/api/v1/regions", params={"cursor": "!!"}, headers=h)).json()[
        "code"
    ] == "INVALID_CURSOR"


async def test_create_region_rules(api: httpx.AsyncClient, tokens: Tokens) -> None:
    county = tokens.headers("county_official", "530102")
    r = await api.post(
        "/api/v1/regions",
        json={"code": "530102990", "name": "新区街道", "kind": "subdistrict"},
        headers=county,
    )
    assert r.status_code == 201, r.text
    assert r.headers["location"] == "/api/v1/regions/530102990"
    village = await api.post("/api/v1/regions", json={"code": "530102990201", "name": "新村"}, headers=county)
    assert village.json()["kind"] == "village"
    dup = await api.post("/api/v1/regions", json={"code": "530102990", "name": "again"}, headers=county)
    assert dup.status_code == 409 and dup.json()["code"] == "REGION_EXISTS"
    orphan = await api.post("/api/v1/regions", json={"code": "530102991001", "name": "x"}, headers=county)
    assert orphan.status_code == 422 and orphan.json()["code"] == "PARENT_NOT_FOUND"
    kind = await api.post(
        "/api/v1/regions", json={"code": "530102992", "name": "x", "kind": "city"}, headers=county
    )
    assert kind.status_code == 422 and kind.json()["code"] == "INVALID_KIND"
    other = await api.post("/api/v1/regions", json={"code": "530103990", "name": "x"}, headers=county)
    assert other.status_code == 404
    a_county = await api.post("/api/v1/regions", json={"code": "530199", "name": "x"}, headers=county)
    assert a_county.status_code == 403
    township = await api.post(
        "/api/v1/regions",
        json={"code": "530102993", "name": "x"},
        headers=tokens.headers("township_official", "530102001"),
    )
    assert township.status_code == 403
    extra = await api.post(
        "/api/v1/regions", json={"code": "530102994", "name": "x", "bogus": 1}, headers=county
    )
    assert extra.status_code == 422 and extra.json()["errors"][0]["field"] == "bogus"
    prov = await api.post(
        "/api/v1/regions", json={"code": "530199", "name": "新县"}, headers=tokens.headers()
    )
    assert prov.status_code == 201


async def test_malformed_json_is_400(api: httpx.AsyncClient, tokens: Tokens) -> None:
    r = await api.post(
        "/api/v1/regions",
        content=b"{not json",
        headers={**tokens.headers(), "content-type": "application/json"},
    )
    assert r.status_code == 400
    assert r.json()["code"] == "MALFORMED_JSON"


async def test_stats_put_get_replace(api: httpx.AsyncClient, tokens: Tokens) -> None:
    h = tokens.headers("township_official", "530102001")
    url = "/api/v1/regions/530102001/stats/2026-03"
    r = await api.put(url, json={"dibao_recipients": 1200, "population": 30000}, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["demo"] is False and r.headers["etag"] == '"1"'
    r2 = await api.put(url, json={"tekun_recipients": 40}, headers={**h, "If-Match": '"1"'})
    assert r2.json()["dibao_recipients"] is None and r2.json()["tekun_recipients"] == 40  # replaced whole
    stale = await api.put(url, json={"tekun_recipients": 41}, headers={**h, "If-Match": '"1"'})
    assert stale.status_code == 412 and stale.json()["code"] == "PRECONDITION_FAILED"
    got = await api.get(url, headers=h)
    assert got.json()["version"] == 2 and got.headers["etag"] == '"2"'
    months = await api.get(
        "/api/v1/regions/530102001/stats", params={"from": "2026-01", "to": "2026-12"}, headers=h
    )
    assert [m["month"] for m in months.json()["items"]] == ["2026-01", "2026-03"]  # the seed's demo month too
    missing = await api.get("/api/v1/regions/530102001/stats/2025-07", headers=h)
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("body", "month", "code"),
    [
        ({}, "2026-03", "NO_FIGURES"),
        ({"population": -1}, "2026-03", "VALIDATION_FAILED"),
        ({"population": 1}, "2026-13", "INVALID_MONTH"),
        ({"population": 1}, "202603", "INVALID_MONTH"),
    ],
)
async def test_stats_validation(
    api: httpx.AsyncClient, tokens: Tokens, body: dict[str, int], month: str, code: str
) -> None:
    r = await api.put(
        f"/api/v1/regions/530102/stats/{month}",
        json=body,
        headers=tokens.headers("county_official", "530102"),
    )
    assert r.status_code == 422 and r.json()["code"] == code


async def test_stats_levels_and_roles(api: httpx.AsyncClient, tokens: Tokens) -> None:
    prov = tokens.headers()
    for code in ("53", "5301"):
        r = await api.put(f"/api/v1/regions/{code}/stats/2026-03", json={"population": 1}, headers=prov)
        assert r.status_code == 422 and r.json()["code"] == "STATS_LEVEL_NOT_ALLOWED"
    township = tokens.headers("township_official", "530102001")
    assert (
        await api.put("/api/v1/regions/530102/stats/2026-03", json={"population": 1}, headers=township)
    ).status_code == 404
    auditor = tokens.headers("auditor", "53")
    assert (
        await api.put("/api/v1/regions/530102/stats/2026-03", json={"population": 1}, headers=auditor)
    ).status_code == 403
    # 403 before 404: a role that may not write learns nothing about the object.
    assert (
        await api.put("/api/v1/regions/530999/stats/2026-03", json={"population": 1}, headers=auditor)
    ).status_code == 403


def _xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


HEADER = ["region_code", "month", "dibao_recipients", "tekun_recipients", "population"]


async def test_import_csv_all_or_nothing(api: httpx.AsyncClient, tokens: Tokens) -> None:
    h = tokens.headers("county_official", "530102")
    bad = "\n".join(
        [
            ",".join(HEADER),
            "530102,2026-04,35000,100,",
            "530102001,2026-4,10,,",
            "530103,2026-04,1,,",
            "5301,2026-04,1,,",
            "530102001001,2026-04,,,-5",
            "530102002,2026-04,,,",
            "530102,2026-04,1,,",
        ]
    ).encode()
    r = await api.post(
        "/api/v1/region-stats/import", files={"file": ("stats.csv", bad, "text/csv")}, headers=h
    )
    assert r.status_code == 422
    errors = {(e["row"], e["code"]) for e in r.json()["errors"]}
    assert errors == {(3, "INVALID_MONTH"), (6, "INVALID_NUMBER"), (7, "NO_FIGURES"), (8, "DUPLICATE_ROW")}
    # None of the good rows went in.
    assert (await api.get("/api/v1/regions/530102/stats/2026-04", headers=h)).status_code == 404
    scoped = "\n".join(
        [",".join(HEADER), "530102,2026-04,35000,100,", "530103,2026-04,1,,", "5301,2026-04,1,,"]
    ).encode()
    r = await api.post(
        "/api/v1/region-stats/import", files={"file": ("s.csv", scoped, "text/csv")}, headers=h
    )
    assert {(e["row"], e["code"]) for e in r.json()["errors"]} == {
        (3, "REGION_NOT_FOUND"),
        (4, "REGION_NOT_FOUND"),
    }
    good = "\ufeff" + "\n".join(
        [",".join(HEADER), "530102,2026-04,35000,100,", "530102001001,2026-04,,,5200", ""]
    )
    r = await api.post(
        "/api/v1/region-stats/import", files={"file": ("s.csv", good.encode(), "text/csv")}, headers=h
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"imported": 2}
    v = await api.get("/api/v1/regions/530102001001/stats/2026-04", headers=h)
    assert v.json()["population"] == 5200 and v.json()["dibao_recipients"] is None


async def test_import_xlsx_and_level_rule(api: httpx.AsyncClient, tokens: Tokens) -> None:
    prov = tokens.headers()
    rows = [HEADER, ["5301", "2026-05", 1, None, None], ["530627", "2026-05", 31000, 500, None]]
    r = await api.post(
        "/api/v1/region-stats/import",
        files={"file": ("s.xlsx", _xlsx(rows), "application/octet-stream")},
        headers=prov,
    )
    assert r.status_code == 422
    assert [(e["row"], e["code"]) for e in r.json()["errors"]] == [(2, "STATS_LEVEL_NOT_ALLOWED")]
    r = await api.post(
        "/api/v1/region-stats/import", files={"file": ("s.xlsx", _xlsx([HEADER, rows[2]]), "x")}, headers=prov
    )
    assert r.json() == {"imported": 1}
    header = await api.post(
        "/api/v1/region-stats/import", files={"file": ("s.csv", b"code,month\n", "text/csv")}, headers=prov
    )
    assert header.json()["code"] == "IMPORT_HEADER_INVALID"


async def test_establishment(api: httpx.AsyncClient, tokens: Tokens) -> None:
    h = tokens.headers("county_official", "530102")
    assert (await api.get("/api/v1/regions/530102/establishment", headers=h)).status_code == 404
    r = await api.put("/api/v1/regions/530102/establishment", json={"authorized_posts": 4}, headers=h)
    assert r.status_code == 200 and r.json()["authorized_posts"] == 4
    assert (await api.get("/api/v1/regions/530102/establishment", headers=h)).json()["version"] == 1
    village = await api.put(
        "/api/v1/regions/530102001001/establishment", json={"authorized_posts": 1}, headers=h
    )
    assert village.json()["code"] == "ESTABLISHMENT_LEVEL_NOT_ALLOWED"
    township = tokens.headers("township_official", "530102001")
    assert (
        await api.put(
            "/api/v1/regions/530102001/establishment", json={"authorized_posts": 1}, headers=township
        )
    ).status_code == 403
    neg = await api.put("/api/v1/regions/530102/establishment", json={"authorized_posts": -1}, headers=h)
    assert neg.status_code == 422


async def test_values_postgres_cannot_store_are_422(api: httpx.AsyncClient, tokens: Tokens) -> None:
    """Found by schemathesis: such values were 500s."""
    r = await api.post(
        "/api/v1/regions", json={"code": "530102940", "name": "bad\u0000name"}, headers=tokens.headers()
    )
    assert r.status_code == 422 and r.json()["code"] == "INVALID_VALUE"
    assert "\\u0000" not in r.text and "INSERT" not in r.text
    broken = b'region_code,month,dibao_recipients,tekun_recipients,population\n"530102,2026-01\rx,1,,\n'
    r = await api.post(
        "/api/v1/region-stats/import", files={"file": ("s.csv", broken, "text/csv")}, headers=tokens.headers()
    )
    assert r.status_code == 422


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/v1/quotas/compute", {"level": "county", "dibao_recipients": 1, "rule_set_id": 2**63}),
        ("GET", f"/api/v1/staffing-rule-sets/{2**63}", None),
        ("GET", f"/api/v1/persons/{2**64}", None),
        (
            "POST",
            "/api/v1/tasks",
            {"dispatch_id": 2**70, "duty_code": "x", "due_date": "2026-01-01", "description": "x"},
        ),
        ("GET", "/api/v1/work-logs?dispatch_id=99999999999999999999", None),
    ],
)
async def test_ids_beyond_bigint_are_422(
    api: httpx.AsyncClient, tokens: Tokens, method: str, path: str, body: dict[str, object] | None
) -> None:
    r = await api.request(method, path, json=body, headers=tokens.headers())
    assert r.status_code == 422, r.text
