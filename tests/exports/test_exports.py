"""Every list and report as CSV and XLSX (README *Spreadsheets*): the rows are the JSON rows over all
pages, in scope and masked alike; typed cells, the frozen header and the 说明 sheet; formula-like text
kept as text; the cap; the API document."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from services.common.settings import Settings
from tests.conftest import Stack, Tokens, business_day
from tests.contracts.conftest import World, make_world
from tests.contracts.test_contracts import COUNTY
from tests.funds.conftest import ACCEPTANCE, Funds
from tests.penalties.conftest import Case

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def json_rows(api: httpx.AsyncClient, path: str, headers: dict[str, str], **query: str) -> list[Any]:
    items: list[Any] = []
    cursor = None
    while True:
        params = {**query, "limit": "37", **({"cursor": cursor} if cursor else {})}
        body = (await api.get(path, params=params, headers=headers)).json()
        items.extend(body["items"])
        cursor = body.get("next_cursor")
        if not cursor:
            return items


def read_csv(r: httpx.Response) -> list[dict[str, str]]:
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith(b"\xef\xbb\xbf")  # the BOM Excel on Chinese Windows needs
    return list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))


def read_xlsx(r: httpx.Response) -> tuple[Any, Any]:
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == XLSX
    book = load_workbook(io.BytesIO(r.content))
    return book.worksheets[0], book["说明"]


@pytest.fixture
async def world(stack: Stack, tokens: Tokens, engine: Any) -> World:
    return await make_world(stack.gateway, stack.gateway, tokens, engine)


async def test_regions_as_csv_over_every_page(stack: Stack, tokens: Tokens) -> None:
    h = tokens.headers("county_official", "530102")
    path = "/api/v1/regions"
    expected = await json_rows(stack.gateway, path, h)
    assert len(expected) > 37  # more than one JSON page
    r = await stack.gateway.get(path, params={"format": "csv", "limit": 5}, headers=h)
    rows = read_csv(r)
    assert [x["code"] for x in rows] == [x["code"] for x in expected]  # every row, in the JSON order
    assert {x["code"][:6] for x in rows} == {"530102"}  # the caller's scope
    assert r.headers["content-disposition"].startswith('attachment; filename="regions-530102-')
    assert list(rows[0]) == list(expected[0])


async def test_more_pages_than_one_export_page(stack: Stack, tokens: Tokens) -> None:
    """The province's prefecture 昆明 has over 500 units: the export walks its pages itself."""
    h = tokens.headers("province_admin", "53")
    expected = await json_rows(stack.gateway, "/api/v1/regions", h, region="5301")
    assert len(expected) > 500
    rows = read_csv(await stack.gateway.get("/api/v1/regions?region=5301&format=csv", headers=h))
    assert [x["code"] for x in rows] == [x["code"] for x in expected]


async def test_accept_header_and_the_query_wins(stack: Stack, tokens: Tokens) -> None:
    h = tokens.headers("county_official", "530102")
    r = await stack.gateway.get("/api/v1/regions", headers={**h, "Accept": XLSX})
    assert r.headers["content-type"] == XLSX
    r = await stack.gateway.get("/api/v1/regions?format=json", headers={**h, "Accept": "text/csv"})
    assert r.headers["content-type"].startswith("application/json") and "items" in r.json()
    r = await stack.gateway.get("/api/v1/regions?format=pdf", headers=h)
    assert (r.status_code, r.json()["code"]) == (422, "INVALID_FORMAT")


async def test_xlsx_typed_cells_frozen_header_and_field_sheet(
    stack: Stack, tokens: Tokens, funds: Funds, world: World
) -> None:
    await funds.published(ACCEPTANCE)
    h = tokens.headers(*COUNTY)
    _, _, line = await funds.county_line()
    assert (await funds.spend(line, "1234567.89", world.contract)).status_code == 201
    sheet, notes = read_xlsx(await stack.gateway.get("/api/v1/expenditures?format=xlsx", headers=h))
    assert sheet.freeze_panes == "A2"
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["id", "allocation_line_id", "region_code"]
    row = dict(zip(header, list(sheet[2]), strict=True))
    assert row["amount"].value == pytest.approx(1234567.89) and row["amount"].number_format == "0.00"
    assert Decimal(str(row["amount"].value)).quantize(Decimal("0.01")) == Decimal("1234567.89")
    assert row["spent_on"].is_date and row["spent_on"].value.date() == date(2026, 6, 30)
    assert row["region_code"].data_type == "s" and row["region_code"].value == "530102"
    described = {r[0].value: r[1].value for r in notes.iter_rows(min_row=2)}
    assert described["amount"] == "支出金额 (amount)" and set(described) == set(header)


async def test_a_report_with_nested_fields(stack: Stack, tokens: Tokens, funds: Funds, world: World) -> None:
    _, _, line = await funds.county_line()
    await funds.spend(line, "100.00", world.contract)
    h = tokens.headers("finance_official", "53")
    expected = (await stack.gateway.get("/api/v1/fund-execution?year=2026", headers=h)).json()["items"]
    rows = read_csv(await stack.gateway.get("/api/v1/fund-execution?year=2026&format=csv", headers=h))
    assert len(rows) == len(expected) == 5 and rows[0]["allocated"] == expected[0]["allocated"]
    r = await stack.gateway.get("/api/v1/fund-execution?year=2026&format=csv", headers=h)
    assert r.headers["content-disposition"] == 'attachment; filename="fund-execution-53-2026.csv"'


async def test_formula_like_text_stays_text(stack: Stack, tokens: Tokens, world: World, engine: Any) -> None:
    from sqlalchemy import text

    async with engine.begin() as conn:
        await conn.execute(
            text('UPDATE contractors SET name = \'=HYPERLINK("http://x","点击")\' WHERE id = :id'),
            {"id": world.contractor},
        )
    h = tokens.headers(*COUNTY)
    rows = read_csv(await stack.gateway.get("/api/v1/contractors?format=csv", headers=h))
    assert rows[0]["name"] == '\'=HYPERLINK("http://x","点击")'
    sheet, _ = read_xlsx(await stack.gateway.get("/api/v1/contractors?format=xlsx", headers=h))
    header = [c.value for c in sheet[1]]
    cell = sheet.cell(row=2, column=header.index("name") + 1)
    assert (cell.data_type, cell.value) == ("s", '=HYPERLINK("http://x","点击")')


async def test_scope_and_masking_as_in_json(stack: Stack, tokens: Tokens, world: World) -> None:
    other = tokens.headers("county_official", "530103")
    rows = read_csv(await stack.gateway.get("/api/v1/contracts?format=csv", headers=other))
    assert rows == []
    r = await stack.gateway.get("/api/v1/contracts?format=csv&region=530102", headers=other)
    assert (r.status_code, r.headers["content-type"]) == (404, "application/problem+json")
    mine = read_csv(await stack.gateway.get("/api/v1/contracts?format=csv", headers=tokens.headers(*COUNTY)))
    assert [int(x["id"]) for x in mine] == [world.contract]
    person = await World(stack.gateway, stack.gateway, tokens, world.contract, world.contractor).person()
    prefecture = tokens.headers("prefecture_official", "5301")  # not the person's own county: masked
    rows = read_csv(await stack.gateway.get("/api/v1/persons?format=csv", headers=prefecture))
    expected = await json_rows(stack.gateway, "/api/v1/persons", prefecture)
    assert [int(x["id"]) for x in rows] == [person]
    assert rows[0]["id_number"] == expected[0]["id_number"] and "*" in rows[0]["id_number"]
    assert rows[0]["phone"] == expected[0]["phone"] and "*" in rows[0]["phone"]


async def test_the_cap_at_its_boundary(stack: Stack, tokens: Tokens, settings: Settings) -> None:
    """``export_max_rows`` set to 五华区's count of units: exactly that many export; one fewer allowed
    → 422 naming the count."""
    h = tokens.headers(*COUNTY)
    count = len(await json_rows(stack.gateway, "/api/v1/regions", h))
    settings.export_max_rows = count
    assert len(read_csv(await stack.gateway.get("/api/v1/regions?format=csv", headers=h))) == count
    settings.export_max_rows = count - 1
    r = await stack.gateway.get("/api/v1/regions?format=xlsx", headers=h)
    assert (r.status_code, r.json()["code"]) == (422, "EXPORT_TOO_LARGE")
    assert str(count) in r.json()["detail"]
    # A report (all its rows in one answer) is held to the same cap.
    settings.export_max_rows = 1
    r = await stack.gateway.get("/api/v1/duties?format=csv", headers=h)
    assert (r.status_code, r.json()["code"]) == (422, "EXPORT_TOO_LARGE")


async def test_the_api_document_offers_both_media_types(stack: Stack) -> None:
    doc = (await stack.gateway.get("/openapi.json")).json()
    for path in ("/api/v1/regions", "/api/v1/contracts", "/api/v1/fund-execution", "/api/v1/violations"):
        op = doc["paths"][path]["get"]
        assert {"text/csv", XLSX} <= set(op["responses"]["200"]["content"]), path
        assert any(p["name"] == "format" for p in op["parameters"]), path


async def _import(api: httpx.AsyncClient, h: dict[str, str], name: str, content: bytes) -> httpx.Response:
    return await api.post("/api/v1/region-stats/import", files={"file": (name, content)}, headers=h)


async def test_region_stats_of_one_month(stack: Stack, tokens: Tokens) -> None:
    h = tokens.headers(*COUNTY)
    body = ("region_code,month,dibao_recipients,tekun_recipients,population\n"
            "530102001001,2026-03,12,,3400\n530102001002,2026-03,,2,\n530102001,2026-03,80,9,\n"
            "530102001001,2026-02,11,,3300\n")  # fmt: skip
    assert (await _import(stack.gateway, h, "s.csv", body.encode())).status_code == 200
    r = await stack.gateway.get("/api/v1/region-stats?level=village&month=2026-03", headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["items"] == [
        {"region_code": "530102001001", "month": "2026-03", "dibao_recipients": 12, "tekun_recipients": None,
         "population": 3400},
        {"region_code": "530102001002", "month": "2026-03", "dibao_recipients": None, "tekun_recipients": 2,
         "population": None},
    ]  # fmt: skip
    townships = await stack.gateway.get("/api/v1/region-stats?level=township&month=2026-03", headers=h)
    assert [x["region_code"] for x in townships.json()["items"]] == ["530102001"]
    other = tokens.headers("county_official", "530103")
    assert (
        await stack.gateway.get("/api/v1/region-stats?level=village&month=2026-03", headers=other)
    ).json()["items"] == []
    r = await stack.gateway.get(
        "/api/v1/region-stats?level=village&month=2026-03&region=530102", headers=other
    )
    assert r.status_code == 404
    r = await stack.gateway.get("/api/v1/region-stats?level=prefecture&month=2026-03", headers=h)
    assert r.status_code == 422


async def test_region_stats_round_trip(stack: Stack, tokens: Tokens) -> None:
    """Export, import the file unchanged (BOM, header, 说明 sheet and all), export again: the same."""
    h = tokens.headers(*COUNTY)
    units = [x["code"] for x in await json_rows(stack.gateway, "/api/v1/regions", h) if len(x["code"]) == 12][
        :8
    ]
    body = "".join(f"{code},2026-04,{n},{n % 3 or ''},{1000 + n}\n" for n, code in enumerate(units, 1))
    first = "region_code,month,dibao_recipients,tekun_recipients,population\n" + body
    assert (await _import(stack.gateway, h, "s.csv", first.encode())).status_code == 200
    path = "/api/v1/region-stats?level=village&month=2026-04"
    csv1 = await stack.gateway.get(path + "&format=csv", headers=h)
    assert len(read_csv(csv1)) == 8
    imported = await _import(stack.gateway, h, "export.csv", csv1.content)
    assert (imported.status_code, imported.json()["imported"]) == (200, 8), imported.text
    csv2 = await stack.gateway.get(path + "&format=csv", headers=h)
    assert csv2.content == csv1.content
    xlsx1 = await stack.gateway.get(path + "&format=xlsx", headers=h)
    imported = await _import(stack.gateway, h, "export.xlsx", xlsx1.content)
    assert (imported.status_code, imported.json()["imported"]) == (200, 8), imported.text
    xlsx2 = await stack.gateway.get(path + "&format=xlsx", headers=h)
    values = [[[c.value for c in row] for row in ws.iter_rows()] for ws in read_xlsx(xlsx1)]
    assert values == [[[c.value for c in row] for row in ws.iter_rows()] for ws in read_xlsx(xlsx2)]
    assert (await stack.gateway.get(path + "&format=csv", headers=h)).content == csv1.content


@pytest.mark.reads_feed
async def test_penalty_lists_and_reports(stack: Stack, tokens: Tokens, case: Case) -> None:
    """penalty_api's violations (a list) and deduction summary (a report) as spreadsheets; a contractor
    sees its own only, as in JSON."""
    await case.confirmed("1.5")
    await case.confirmed("3")
    year = business_day().year  # the deductions fall in the year they are confirmed (Yunnan's)
    h = tokens.headers(*COUNTY)
    expected = await json_rows(stack.gateway, "/api/v1/violations", h)
    rows = read_csv(await stack.gateway.get("/api/v1/violations?format=csv", headers=h))
    assert [x["id"] for x in rows] == [str(x["id"]) for x in expected] and len(rows) == 2
    assert sorted(x["amount"] for x in rows) == ["4275.00", "8550.00"]
    sheet, _ = read_xlsx(
        await stack.gateway.get(f"/api/v1/deduction-summary?year={year}&format=xlsx", headers=h)
    )
    header = [c.value for c in sheet[1]]
    summary = (await stack.gateway.get(f"/api/v1/deduction-summary?year={year}", headers=h)).json()["items"]
    assert sheet.max_row - 1 == len(summary) == 1
    money_columns = [i for i, c in enumerate(sheet[2]) if c.number_format == "0.00"]
    assert money_columns, header
    stranger = tokens.headers("contractor", "530102", org_id="999999")
    assert read_csv(await stack.gateway.get("/api/v1/violations?format=csv", headers=stranger)) == []
    # Lists paged by their own key: the ledger by seq, the change feed by id.
    entries = read_csv(
        await stack.gateway.get(f"/api/v1/ledger/{case.contract}/entries?format=csv", headers=h)
    )
    assert [x["seq"] for x in entries] == ["1", "2"] and entries[1]["amount"] == "8550.00"
    feed = tokens.headers("service", "530102", scope="events:read")
    events = read_csv(await stack.gateway.get("/api/v1/events?format=csv", headers=feed))
    listed = (await stack.gateway.get("/api/v1/events?limit=500", headers=feed)).json()["items"]
    assert [x["id"] for x in events] == [str(x["id"]) for x in listed] and len(listed) > 2
