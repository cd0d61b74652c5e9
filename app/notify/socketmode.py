"""Slack Socket Mode (SPEC 12, SLACK_APP_TOKEN): slack-sdk's built-in client keeps a WebSocket to
Slack (its URL from apps.connections.open) in its own threads, reconnecting on its own; each
envelope goes to the one handler (app.notify.interact) and is acknowledged with its
envelope_id, after the click is recorded (a kill before the acknowledgement: Slack sends it
again, and the write is idempotent). The first connection is retried in a thread of ours, so a
Slack outage at start never holds the service; stop() ends it all within the stop budget."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from slack_sdk.socket_mode import SocketModeClient
    from slack_sdk.socket_mode.request import SocketModeRequest

    from app.notify.interact import Interactions

log = logging.getLogger("app.slack")

_RETRY_SECONDS = (1, 2, 5, 10, 30, 60)  # between failed first connections, then 60 s each


class SocketMode:
    def __init__(self, app_token: str, api_url: str, handler: Interactions) -> None:
        self._token = app_token
        self._api_url = api_url
        self._handler = handler
        self._stop = threading.Event()
        self._client: SocketModeClient | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._connect, name="slack-socket", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Within about `timeout` seconds (the service's 5 s stop budget holds the rest)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(0.5)
        client = self._client
        if client is not None:
            closer = threading.Thread(target=_close, args=(client,), name="slack-socket-close")
            closer.daemon = True  # a close stuck in I/O never holds the exit
            closer.start()
            closer.join(timeout)

    @property
    def connected(self) -> bool:
        return self._client is not None and self._client.is_connected()

    def _connect(self) -> None:
        from slack_sdk import WebClient
        from slack_sdk.socket_mode import SocketModeClient

        # slack-sdk logs the WebSocket URL (its ticket) and payloads: silent, we say what matters.
        quiet = logging.getLogger("flinkswatch.slack_socket")
        quiet.setLevel(logging.CRITICAL)
        client = SocketModeClient(
            app_token=self._token,
            web_client=WebClient(base_url=self._api_url, timeout=10, logger=quiet),
            logger=quiet,
        )
        client.socket_mode_request_listeners.append(self._on_request)  # type: ignore[arg-type]
        self._client = client
        for attempt in range(10**9):
            if self._stop.is_set():
                return
            try:
                client.connect()
                log.info("slack.socket_connected")
                return
            except Exception as exc:  # noqa: BLE001 - Slack unreachable: retry, say why
                wait = _RETRY_SECONDS[min(attempt, len(_RETRY_SECONDS) - 1)]
                log.warning("slack.socket_failed error=%s retry_in=%ds", type(exc).__name__, wait)
                if self._stop.wait(wait):
                    return

    def _on_request(self, client: SocketModeClient, request: SocketModeRequest) -> None:
        from slack_sdk.socket_mode.response import SocketModeResponse

        payload: dict[str, Any] | None = None
        try:
            if request.type == "interactive":
                self._handler.interactive(request.payload)
            elif request.type == "slash_commands":
                payload = self._handler.slash(request.payload)
        except Exception as exc:  # noqa: BLE001 - acknowledged all the same: no retry storm
            log.error("slack.socket_request_failed error=%s", type(exc).__name__)
        answer = SocketModeResponse(envelope_id=request.envelope_id, payload=payload)
        client.send_socket_mode_response(answer)


def _close(client: SocketModeClient) -> None:
    """close() disconnects, then stops the client's monitor, which may have been reconnecting
    meanwhile: the session that made is disconnected too, once the monitor has stopped."""
    client.close()
    client.disconnect()
