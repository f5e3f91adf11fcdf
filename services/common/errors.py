"""One hierarchy of domain errors, each with a stable ``code`` and a Chinese and English message.

No FastAPI here: rules and stores raise these, ``problems.py`` renders them as RFC 9457.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldError:
    """One entry of a 422's ``errors`` list (``row`` is set for spreadsheet imports)."""

    field: str
    code: str
    message_zh: str
    message_en: str
    row: int | None = None

    def render(self, lang: str) -> dict[str, object]:
        out: dict[str, object] = {
            "field": self.field,
            "code": self.code,
            "message": self.message_en if lang == "en" else self.message_zh,
        }
        if self.row is not None:
            out["row"] = self.row
        return out


@dataclass(frozen=True)
class Rejection:
    """Why a rule says no, in both languages: a value rules return when they list every reason
    (eligibility) or answer per item (batches), where raising would stop at the first."""

    code: str
    zh: str
    en: str


@dataclass
class DomainError(Exception):
    code: str
    message_zh: str
    message_en: str
    status: int = 422
    errors: list[FieldError] = field(default_factory=list)
    headers: Mapping[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.code}: {self.message_en}"


def bad_request(code: str, zh: str, en: str) -> DomainError:
    return DomainError(code, zh, en, status=400)


def unauthorized(code: str, zh: str, en: str, *, www_authenticate: str) -> DomainError:
    return DomainError(code, zh, en, status=401, headers={"WWW-Authenticate": www_authenticate})


def forbidden(zh: str = "当前角色无权执行此操作", en: str = "Your role may not do this") -> DomainError:
    return DomainError("FORBIDDEN", zh, en, status=403)


def not_found(what_zh: str = "资源", what_en: str = "resource") -> DomainError:
    return DomainError("NOT_FOUND", f"{what_zh}不存在", f"The {what_en} does not exist", status=404)


def conflict(code: str, zh: str, en: str, headers: Mapping[str, str] | None = None) -> DomainError:
    return DomainError(code, zh, en, status=409, headers=dict(headers or {}))


def invalid(code: str, zh: str, en: str, errors: list[FieldError] | None = None) -> DomainError:
    return DomainError(code, zh, en, status=422, errors=list(errors or []))


def invalid_field(field: str, code: str, zh: str, en: str) -> DomainError:
    """A 422 about one field: the same code and message at the top and in ``errors``."""
    return invalid(code, zh, en, [FieldError(field, code, zh, en)])


def precondition_failed() -> DomainError:
    return DomainError(
        "PRECONDITION_FAILED",
        "If-Match 与当前版本不符，资源已被修改",
        "If-Match does not match the current version; the resource has changed",
        status=412,
    )
