"""slack-sdk's clients sending through a urllib opener that refuses a redirect to another origin
(app.notify.same_origin): the SDK's own urlopen follows a 302 anywhere, the bot token with it."""

from __future__ import annotations

import urllib.request
from http.client import HTTPMessage
from ssl import SSLContext
from typing import IO, Any
from urllib.parse import urljoin

from slack_sdk import WebClient
from slack_sdk.errors import SlackRequestError
from slack_sdk.webhook import WebhookClient, WebhookResponse

from app.notify.same_origin import RedirectRefused, same_origin


class SameOriginRedirects(urllib.request.HTTPRedirectHandler):
    """urllib's redirect handling, refusing a redirect that leaves the request's origin."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        target = urljoin(req.full_url, newurl)
        if not same_origin(req.full_url, target):
            fp.close()  # urllib closes it only when it follows
            raise RedirectRefused(code, target)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _opener(ssl: SSLContext | None, proxy: str | None) -> urllib.request.OpenerDirector:
    handlers: list[Any] = [urllib.request.HTTPSHandler(context=ssl), SameOriginRedirects()]
    if proxy:
        handlers.append(urllib.request.ProxyHandler({"http": proxy, "https": proxy}))
    return urllib.request.build_opener(*handlers)


def _open(
    url: str, req: urllib.request.Request, ssl: SSLContext | None, proxy: object, timeout: int
) -> Any:
    if not url.lower().startswith(("http://", "https://")):  # never file:// nor ftp://
        raise SlackRequestError("Invalid URL detected")  # the URL may be the secret: not quoted
    return _opener(ssl, proxy if isinstance(proxy, str) else None).open(req, timeout=timeout)


class SameOriginWebClient(WebClient):
    """slack-sdk's WebClient, its requests sent by an opener that refuses cross-origin
    redirects (the SDK's own urlopen follows a 302 anywhere with the bot token)."""

    def _perform_urllib_http_request_internal(
        self, url: str, req: urllib.request.Request
    ) -> dict[str, Any]:
        resp = _open(url, req, self.ssl, self.proxy, self.timeout)
        charset = resp.headers.get_content_charset() or "utf-8"
        return {"status": resp.code, "headers": resp.headers, "body": resp.read().decode(charset)}


class SameOriginWebhookClient(WebhookClient):
    """slack-sdk's WebhookClient with the same refusal (the URL itself is the secret)."""

    def _perform_http_request_internal(
        self, url: str, req: urllib.request.Request
    ) -> WebhookResponse:
        resp = _open(url, req, self.ssl, self.proxy, self.timeout)
        charset = resp.headers.get_content_charset() or "utf-8"
        return WebhookResponse(
            url=url, status_code=resp.status, body=resp.read().decode(charset), headers=resp.headers
        )
