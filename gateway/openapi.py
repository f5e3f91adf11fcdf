"""One API document: the services' OpenAPI merged, shared components de-duplicated, plus the
gateway's own endpoints and the bearer scheme."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

from gateway.routing import is_public, resolve
from services.common.problem_docs import problem_response

REF = "#/components/schemas/"

_FORM_TOKEN = {
    "type": "object",
    "required": ["grant_type"],
    "properties": {
        "grant_type": {
            "type": "string",
            "enum": ["password", "client_credentials"],
            "description": "授权类型 (grant type)",
        },
        "username": {"type": "string", "description": "用户名 (username, password grant)"},
        "password": {
            "type": "string",
            "format": "password",
            "description": "密码 (password, password grant)",
        },
        "client_id": {"type": "string", "description": "客户端标识 (client id, client credentials)"},
        "client_secret": {
            "type": "string",
            "format": "password",
            "description": "客户端密钥 (client secret)",
        },
    },
}
_OAUTH_ERROR = {
    "description": "OAuth 错误 (OAuth error body: error, error_description)",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {
                    "error": {"type": "string", "description": "错误码 (OAuth error code)"},
                    "error_description": {"type": "string", "description": "错误说明 (description)"},
                },
            }
        }
    },
}
_JSON_OK = {"description": "成功 (OK)", "content": {"application/json": {"schema": {"type": "object"}}}}

_SCOPES = {
    "staffing:read": "读取配备数据 (read staffing)",
    "contracts:read": "读取合同数据 (read contracts)",
    "penalties:read": "读取扣减数据 (read penalties)",
    "events:read": "读取变更流 (read the change feed)",
}
GATEWAY_PATHS: dict[str, Any] = {
    "/auth/token": {
        "post": {
            "tags": ["auth"],
            "summary": "签发令牌 (issue a token)",
            "security": [],
            "description": "OAuth 2.0 token endpoint (RFC 6749): `password` for people, `client_credentials` for "
            "agency systems. 5 failures per name in 15 minutes lock the name (429 `too_many_attempts`).",
            "requestBody": {
                "required": True,
                "content": {"application/x-www-form-urlencoded": {"schema": _FORM_TOKEN}},
            },
            "responses": {
                "200": {
                    "description": "令牌 (access_token, token_type, expires_in)",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "access_token": {"type": "string", "description": "访问令牌 (ES256 JWT)"},
                                    "token_type": {"type": "string", "description": "令牌类型 (bearer)"},
                                    "expires_in": {
                                        "type": "integer",
                                        "description": "有效秒数 (lifetime in seconds)",
                                    },
                                },
                            }
                        }
                    },
                },
                "400": _OAUTH_ERROR,
                "401": _OAUTH_ERROR,
                "429": _OAUTH_ERROR,
            },
        }
    },
    "/auth/revoke": {
        "post": {
            "tags": ["auth"],
            "summary": "吊销令牌 (revoke a token)",
            "description": "RFC 7009: revokes the caller's own token (or `token`, another token of the same subject) "
            "in the gateway and every service until it expires.",
            "requestBody": {
                "content": {
                    "application/x-www-form-urlencoded": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "token": {
                                    "type": "string",
                                    "description": "要吊销的令牌 (token to revoke; default: the bearer token)",
                                },
                            },
                        }
                    }
                }
            },
            "responses": {"200": _JSON_OK, "401": {"description": "未认证 (no or invalid token)"}},
        }
    },
    "/.well-known/jwks.json": {
        "get": {
            "tags": ["auth"],
            "summary": "公钥集 (JWKS)",
            "security": [],
            "description": "Public keys that verify the deployment's tokens, old keys included until their tokens expire.",
            "responses": {"200": _JSON_OK},
        }
    },
    "/healthz": {
        "get": {
            "tags": ["health"],
            "summary": "进程存活 (liveness)",
            "security": [],
            "description": "The gateway process answers.",
            "responses": {"200": _JSON_OK},
        }
    },
    "/readyz": {
        "get": {
            "tags": ["health"],
            "summary": "就绪检查 (readiness)",
            "security": [],
            "description": "Database, migrations at head and every upstream ready; 503 lists what fails.",
            "responses": {"200": _JSON_OK, "503": _JSON_OK},
        }
    },
    "/metrics": {
        "get": {
            "tags": ["health"],
            "summary": "监控指标 (Prometheus metrics)",
            "security": [],
            "description": "Requests by route and status, latency histograms, upstream latency and errors.",
            "responses": {
                "200": {
                    "description": "Prometheus text format",
                    "content": {"text/plain": {"schema": {"type": "string"}}},
                }
            },
        }
    },
}


def _rewrite_refs(node: Any, renames: Mapping[str, str]) -> Any:
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str) and v.startswith(REF) and v[len(REF) :] in renames:
                out[k] = REF + renames[v[len(REF) :]]
            else:
                out[k] = _rewrite_refs(v, renames)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(v, renames) for v in node]
    return node


def merge(documents: Mapping[str, dict[str, Any]], title: str, version: str) -> dict[str, Any]:
    """Merge the services' documents: each keeps the paths the routing table gives it; a schema
    defined identically by several services appears once, a clash is renamed ``<service>_<Name>``."""
    schemas: dict[str, Any] = {}
    paths: dict[str, Any] = {}
    for service, doc in documents.items():
        doc = copy.deepcopy(doc)
        own = doc.get("components", {}).get("schemas", {})
        renames = {
            name: f"{service}_{name}"
            for name, schema in own.items()
            if name in schemas
            and json.dumps(schemas[name], sort_keys=True) != json.dumps(schema, sort_keys=True)
        }
        doc = _rewrite_refs(doc, renames)
        for name, schema in doc.get("components", {}).get("schemas", {}).items():
            schemas.setdefault(renames.get(name, name), schema)
        for path, item in doc.get("paths", {}).items():
            if resolve(path) == service:
                for op in item.values():
                    if not isinstance(op, dict):
                        continue
                    if is_public(path):
                        op["security"] = []
                    # What the gateway itself may answer in front of any service operation.
                    gateway_statuses = ["429", "502", "504"] + (["413"] if "requestBody" in op else [])
                    responses = op.setdefault("responses", {})
                    for status in gateway_statuses:
                        responses.setdefault(status, problem_response(status))
                    op["responses"] = dict(sorted(responses.items()))
                paths[path] = item
    return {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": version,
            "description": "救助 Jiuzhu: Yunnan's government purchase of social-assistance services. Every call but "
            "the public ones carries `Authorization: Bearer <JWT>`; errors are RFC 9457 problem+json with a stable "
            "`code`, Chinese by default, English with `Accept-Language: en`.",
        },
        "paths": {**copy.deepcopy(GATEWAY_PATHS), **dict(sorted(paths.items()))},
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "访问令牌 (ES256 JWT from POST /auth/token)",
                },
                # Where those tokens come from, for generated clients (and for the fuzzer, which then
                # knows a well-formed grant with wrong credentials is refused, RFC 6749 §5.2).
                "oauth2": {
                    "type": "oauth2",
                    "description": "签发令牌 (the token endpoint: people and agency systems)",
                    "flows": {
                        "password": {"tokenUrl": "/auth/token", "scopes": {}},
                        "clientCredentials": {"tokenUrl": "/auth/token", "scopes": _SCOPES},
                    },
                },
            },
        },
        "security": [{"bearer": []}],
    }
