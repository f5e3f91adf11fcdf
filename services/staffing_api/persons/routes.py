"""Persons, the established roster (在编在岗) and assistant eligibility (staffing.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from services.common import idnumbers, problems
from services.common.app import router as make_router
from services.common.auth.deps import READ_ROLES, ensure_in_scope, listed_region, require
from services.common.auth.tokens import Principal
from services.common.changes import record_change
from services.common.errors import DomainError, conflict, invalid, invalid_field, not_found
from services.common.exports import exportable
from services.common.ids import PathId
from services.common.models import EstablishmentPost, Person
from services.common.months import business_today
from services.common.pagination import Page, Paging
from services.common.pii import Vault
from services.common.regions import level_of, parse_code
from services.common.transaction import Session
from services.staffing_api.persons import rules, store
from services.staffing_api.persons.schemas import (
    EligibilityCheck,
    EligibilityResult,
    PersonCreate,
    PersonRead,
    PostCreate,
    PostEnd,
    PostRead,
    Reason,
)
from services.staffing_api.regions import store as regions

router = make_router(prefix="/api/v1", tags=["persons"])
PersonWriter = Annotated[Principal, Depends(require("province_admin", "county_official", "contractor"))]
PersonReader = Annotated[
    Principal, Depends(require(*READ_ROLES, "contractor", "worker", scope="staffing:read"))
]
RosterWriter = Annotated[Principal, Depends(require("province_admin", "county_official"))]
RosterReader = Annotated[Principal, Depends(require(*READ_ROLES, scope="staffing:read"))]
EligibilityAsker = Annotated[Principal, Depends(require(*READ_ROLES, "contractor"))]
ID_CONTEXT, PHONE_CONTEXT = "person.id_number", "person.phone"


def _vault(request: Request) -> Vault:
    vault: Vault = request.app.state.vault
    return vault


Vaulted = Annotated[Vault, Depends(_vault)]


def _invalid_id() -> Exception:
    zh, en = (
        "身份证号码校验不通过（校验码或出生日期错误）",
        "The ID number fails its check character or birth date",
    )
    return invalid_field("id_number", "INVALID_ID_NUMBER", zh, en)


def sees_full_pii(principal: Principal, person: Person) -> bool:
    """Only the civil-affairs department of the person's own county sees the ID number unmasked."""
    return principal.role == "county_official" and principal.region == person.region_code[:6]


def person_read(person: Person, principal: Principal, vault: Vault, today: datetime) -> PersonRead:
    full = sees_full_pii(principal, person)
    phone = person.phone_masked
    if full and person.phone_encrypted is not None:
        phone = vault.decrypt(person.phone_encrypted, PHONE_CONTEXT)
    return PersonRead(
        id=person.id,
        name=person.name,
        id_number=vault.decrypt(person.id_number_encrypted, ID_CONTEXT) if full else person.id_number_masked,
        birth_date=person.birth_date,
        age=idnumbers.age_on(person.birth_date, business_today(today)),
        gender=person.gender,
        education=person.education,
        phone=phone,
        region_code=person.region_code,
        created_at=person.created_at,
    )


async def readable_person(session: AsyncSession, principal: Principal, person_id: int) -> Person:
    """The person if this caller may see it, else 404 (whether it exists is not revealed)."""
    person = await store.get(session, person_id)
    if person is None:
        raise not_found("人员", "person")
    if principal.role == "worker":
        allowed = principal.sub == str(person.id)
    elif principal.role == "contractor":
        allowed = principal.org_id is not None and (
            person.created_by_org_id == principal.org_id
            or await store.dispatched_by(session, person.id, principal.org_id)
        )
    else:
        allowed = person.region_code.startswith(principal.region)
    if not allowed:
        raise not_found("人员", "person")
    return person


def _person_exists() -> DomainError:
    return conflict(
        "PERSON_EXISTS", "该身份证号码已登记", "A person with this ID number is already registered"
    )


@router.post("/persons", status_code=201, response_model=PersonRead)
async def create_person(
    body: PersonCreate, principal: PersonWriter, session: Session, vault: Vaulted, response: Response
) -> PersonRead:
    """登记人员 (register a person: the province, a county official inside its county, or a contractor
    for persons it proposes). The ID number must pass GB 11643; one person per ID number."""
    region = parse_code(body.region_code, "region_code")
    if len(region) < 6:
        zh, en = "登记区划须为县或县以下", "Register a person in a county or a unit below it"
        raise invalid_field("region_code", "REGION_LEVEL_NOT_ALLOWED", zh, en)
    ensure_in_scope(principal, region, "区划", "region")
    if not await regions.exists(session, region):
        raise not_found("区划", "region")
    try:
        parsed = idnumbers.parse(body.id_number)
    except idnumbers.InvalidIdNumber:
        raise _invalid_id() from None
    digest = vault.digest(parsed.value)
    if await store.by_hash(session, digest) is not None:
        raise _person_exists()
    person = Person(
        name=body.name.strip(),
        id_number_hash=digest,
        id_number_encrypted=vault.encrypt(parsed.value, ID_CONTEXT),
        id_number_masked=parsed.masked,
        birth_date=parsed.birth_date,
        gender=body.gender or parsed.gender,
        education=body.education,
        phone_encrypted=vault.encrypt(body.phone, PHONE_CONTEXT) if body.phone else None,
        phone_masked=f"{body.phone[:3]}****{body.phone[-4:]}" if body.phone else None,
        region_code=region,
        created_by_org_id=principal.org_id if principal.role == "contractor" else None,
    )
    await store.add_person(session, person, _person_exists())
    await session.refresh(person)
    # The feed and the audit log carry no names or ID numbers.
    record_change(
        session,
        principal,
        action="created",
        resource="person",
        resource_id=str(person.id),
        region=region,
        data={"id": person.id, "region_code": region},
    )
    response.headers["Location"] = f"/api/v1/persons/{person.id}"
    return person_read(person, principal, vault, datetime.now(UTC))


@router.get("/persons/{person_id}", response_model=PersonRead)
async def read_person(
    person_id: PathId, principal: PersonReader, session: Session, vault: Vaulted
) -> PersonRead:
    """读取人员 (ID number and phone masked except for the person's own county)."""
    person = await readable_person(session, principal, person_id)
    return person_read(person, principal, vault, datetime.now(UTC))


@router.get("/persons", openapi_extra=exportable("persons"), response_model=Page[PersonRead])
async def list_persons(
    principal: PersonReader,
    session: Session,
    vault: Vaulted,
    paging: Paging,
    region: Annotated[str | None, Query(description="区划前缀 (region and below)")] = None,
) -> Page[PersonRead]:
    """人员列表 (persons in the caller's scope, by id)."""
    code = None
    if region is not None:
        code = parse_code(region, "region")
        if principal.role not in ("contractor", "worker"):
            ensure_in_scope(principal, code)
    rows, cursor = await store.list_persons(session, principal, paging, code)
    now = datetime.now(UTC)
    return Page[PersonRead](items=[person_read(p, principal, vault, now) for p in rows], next_cursor=cursor)


@router.post("/establishment-posts", status_code=201, response_model=PostRead)
async def add_post(
    body: PostCreate, principal: RosterWriter, session: Session, response: Response
) -> PostRead:
    """在编在岗登记 (put a person on a county's or township's established roster). A person is on
    one roster at a time and cannot be both established and dispatched (两头占, §三(三))."""
    region = parse_code(body.region_code, "region_code")
    if level_of(region) not in ("county", "township"):
        zh, en = (
            "编制人员只能登记在县级民政部门或乡镇（街道）",
            "Established posts are in a county or a township",
        )
        raise invalid_field("region_code", "REGION_LEVEL_NOT_ALLOWED", zh, en)
    ensure_in_scope(principal, region, "区划", "region")
    person = await readable_person(session, principal, body.person_id)
    if not await regions.exists(session, region):
        raise not_found("区划", "region")
    if await store.open_post(session, person.id) is not None:
        raise conflict(
            "ALREADY_ON_ROSTER", "该人员已在编在岗", "This person already holds an established post"
        )
    if await store.actively_dispatched(session, person.id, body.since):
        raise invalid(
            "ALREADY_DISPATCHED",
            "该人员正被派遣，不得同时在编（两头占）",
            "This person holds an active dispatch",
        )
    post = EstablishmentPost(person_id=person.id, region_code=region, since=body.since)
    await store.add(session, post)
    out = PostRead.model_validate(post)
    record_change(
        session,
        principal,
        action="created",
        resource="establishment_post",
        resource_id=str(post.id),
        region=region,
        data=out.model_dump(mode="json"),
    )
    response.headers["Location"] = f"/api/v1/establishment-posts/{post.id}"
    return out


@router.post("/establishment-posts/{post_id}/end", response_model=PostRead)
async def end_post(post_id: PathId, body: PostEnd, principal: RosterWriter, session: Session) -> PostRead:
    """离岗 (the last day on the roster, inclusive)."""
    post = await store.get_post(session, post_id)
    if post is None or not post.region_code.startswith(principal.region):
        raise not_found("编制人员记录", "roster entry")
    if post.until is not None:
        raise conflict("POST_ENDED", "该记录已离岗", "This post has already ended")
    if body.until < post.since:
        zh, en = "离岗日不能早于在岗起始日", "until cannot be before since"
        raise invalid_field("until", "INVALID_PERIOD", zh, en)
    post.until = body.until
    await session.flush()
    out = PostRead.model_validate(post)
    record_change(
        session,
        principal,
        action="ended",
        resource="establishment_post",
        resource_id=str(post.id),
        region=post.region_code,
        data=out.model_dump(mode="json"),
    )
    return out


@router.get("/establishment-posts/{post_id}", response_model=PostRead)
async def read_post(post_id: PathId, principal: RosterReader, session: Session) -> PostRead:
    """读取编制人员记录 (officials and auditors in scope; like the roster list, not contractors or
    workers: 403)."""
    post = await store.get_post(session, post_id, lock=False)
    if post is None:
        raise not_found("编制人员记录", "roster entry")
    ensure_in_scope(principal, post.region_code, "编制人员记录", "roster entry")
    return PostRead.model_validate(post)


@router.get(
    "/establishment-posts", openapi_extra=exportable("establishment-posts"), response_model=Page[PostRead]
)
async def list_posts(
    principal: RosterReader,
    session: Session,
    paging: Paging,
    region: Annotated[str | None, Query(description="区划前缀 (region and below)")] = None,
) -> Page[PostRead]:
    """编制人员名册 (the established roster in the caller's scope, by id)."""
    code = listed_region(principal, region)
    rows, cursor = await store.list_posts(session, code, paging)
    return Page[PostRead](items=[PostRead.model_validate(p) for p in rows], next_cursor=cursor)


@router.post("/assistant-eligibility", response_model=EligibilityResult)
async def assistant_eligibility(
    body: EligibilityCheck, principal: EligibilityAsker, session: Session, vault: Vaulted, request: Request
) -> EligibilityResult:
    """社会救助协理员资格 (§二(二)): every failing condition is listed. 200 whenever the request is
    well-formed, also for an ID number that fails its check (`INVALID_ID_NUMBER`, age null)."""
    person: Person | None = None
    birth = None
    if body.person_id is not None:
        person = await readable_person(session, principal, body.person_id)
        birth = person.birth_date
    else:
        try:
            parsed = idnumbers.parse(body.id_number or "")
            birth = parsed.birth_date
            person = await store.by_hash(session, vault.digest(parsed.value))
        except idnumbers.InvalidIdNumber:
            birth = None
    facts = rules.Facts(
        birth_date=birth,
        education=body.education,
        health_confirmed=body.health_confirmed,
        law_abiding_confirmed=body.law_abiding_confirmed,
        has_other_job=body.has_other_job,
        on_establishment_roster=person is not None
        and await store.on_roster(session, person.id, body.on_date),
        already_dispatched=person is not None
        and await store.actively_dispatched(session, person.id, body.on_date),
    )
    age, failing = rules.assistant_failings(facts, body.on_date)
    en = problems.language(request.headers.get("accept-language")) == "en"
    reasons = [Reason(code=f.code, message=f.en if en else f.zh) for f in failing]
    return EligibilityResult(eligible=not failing, age=age, reasons=reasons)
