"""Refuse request bodies above the configured size before they are parsed.

A declared Content-Length over the limit is refused at once; a chunked body
is counted as it arrives and refused as soon as it passes the limit.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self.refuse(send, int(declared))
            return
        if declared is not None:
            await self.app(scope, receive, send)
            return
        # No declared length: buffer up to the limit, then replay the body to the app.
        messages: list[Message] = []
        total = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            total += len(message.get("body", b""))
            if total > self.max_bytes:
                await self.refuse(send, total)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def refuse(self, send: Send, size: int) -> None:
        body = json.dumps(
            {
                "detail": "request body too large",
                "errors": [
                    {
                        "node": None,
                        "port": None,
                        "attribute": None,
                        "code": "limit",
                        "message": f"the request body is {size:,} bytes or more; this server accepts at most "
                        f"{self.max_bytes:,}. Send smaller literal values, or use random inits.",
                    }
                ],
                "nodes": {},
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})
