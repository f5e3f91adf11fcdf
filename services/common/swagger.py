"""Swagger UI served by the application itself, never from a CDN: on a government intranet (or any
machine without internet) a page that loads its script from a public CDN stays blank.

The assets come from the ``fastapi-swagger`` package, which ships the current Swagger UI 5
distribution (OpenAPI 3.1) as package data; we only serve its files. The validator badge is off:
it would send the document to validator.swagger.io.
"""

from __future__ import annotations

from importlib import resources

from fastapi.openapi.docs import get_swagger_ui_html
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
}
PREFIX = "/docs/assets/"


def _asset(name: str) -> bytes:
    return resources.files("fastapi_swagger.resources").joinpath(name).read_bytes()


def page(openapi_url: str, title: str) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=openapi_url,
        title=title,
        swagger_js_url=PREFIX + "swagger-ui-bundle.js",
        swagger_css_url=PREFIX + "swagger-ui.css",
        swagger_favicon_url=PREFIX + "favicon-32x32.png",
        swagger_ui_parameters={"validatorUrl": None, "docExpansion": "none"},
    )


def routes(openapi_url: str, title: str) -> list[Route]:
    """``/docs`` and its assets (cached for a day: they change only with the package)."""

    async def docs(_request: Request) -> Response:
        return page(openapi_url, title)

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in ASSETS:
            return Response(status_code=404)
        return Response(
            _asset(name), media_type=ASSETS[name], headers={"Cache-Control": "public, max-age=86400"}
        )

    return [Route("/docs", docs), Route(PREFIX + "{name}", asset)]
