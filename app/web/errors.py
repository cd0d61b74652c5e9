"""Errors of the pages as their reader asked: an HTML page for a browser (it asks for text/html
first), JSON when the request asked for JSON (`Accept: application/json` or `?format=json`),
otherwise what the probes and scripts always had (JSON for 404/405, one line of text for
400). The probes' own paths answer JSON whatever is asked."""

from __future__ import annotations

import json

from flask import Flask, render_template, request
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from app.web.access import OPEN_PATHS

TITLES = {400: "Bad request", 404: "Not found", 405: "Method not allowed"}
_PLAIN = {404: "not found", 405: "read-only: GET only"}


def add_error_pages(app: Flask) -> None:
    for code in TITLES:
        app.register_error_handler(code, _answer)


def wants_html() -> bool:
    """text/html asked by name, and preferred to JSON (a browser's Accept; curl's `*/*` is
    not a browser's)."""
    if request.path in OPEN_PATHS or request.args.get("format") == "json":
        return False
    accept = request.accept_mimetypes
    named = max((q for value, q in accept if value == "text/html"), default=0)
    return named > 0 and named >= accept["application/json"]


def wants_json() -> bool:
    accept = request.accept_mimetypes
    asked = request.args.get("format") == "json" or accept.best == "application/json"
    return asked or request.path in OPEN_PATHS


def _answer(exc: HTTPException) -> Response:
    code = exc.code or 500
    reason = _reason(exc)
    if wants_html():
        html = render_template("error.html", code=code, title=TITLES[code], reason=reason)
        response = Response(html, code, content_type="text/html; charset=utf-8")
    elif code != 400 or wants_json():
        body = {"error": reason if code == 400 else _PLAIN[code]}
        response = Response(json.dumps(body), code, content_type="application/json")
    else:
        response = exc.get_response()  # the one line of text of app/web/params.py
    if code == 405:
        response.headers["Allow"] = "GET, HEAD"
    return response


def _reason(exc: HTTPException) -> str:
    if isinstance(exc.response, Response):
        return exc.response.get_data(as_text=True).strip()
    return _PLAIN.get(exc.code or 0, exc.description or "")
