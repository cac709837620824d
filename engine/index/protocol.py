"""uvicorn's HTTP/1.1 parser (h11) for `engine serve`, answering what it refuses in JSON.

Two changes to uvicorn's `H11Protocol`, both so that a user mistake gets a 4xx with a message:
- The parser accepts a request head of up to `MAX_HEAD_BYTES` (h11's default is 16 KiB). A query of
  `MAX_QUERY_CHARS` characters percent-encodes to at most 12 bytes each, so any query the app could
  accept, and far longer ones, reach the app, which refuses an overlong one with 422 and its limit.
  With the default, a long query was cut off or not depending on how TCP split it.
- A request the parser refuses (a head over that size, malformed framing such as `Content-Length: abc`)
  gets a JSON answer (414, 431 or 400) instead of plain text, and the connection is closed only after
  the client has sent the rest (for at most `LINGER_S`): closing a socket with unread data sends a
  reset, and the client lost the answer with it.
"""

from __future__ import annotations

import json

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from engine.index.web import MAX_QUERY_CHARS

MAX_HEAD_BYTES = 256 * 2**10  # request line and headers: 10x the longest acceptable query, encoded
LINGER_S = 5.0


class JsonErrorsProtocol(H11Protocol):
    """`H11Protocol` whose parser-level refusals are JSON (see the module docstring)."""

    discarding = False

    def data_received(self, data: bytes) -> None:
        if not self.discarding:  # after a refusal: read the rest of the request and drop it
            super().data_received(data)

    def send_400_response(self, msg: str) -> None:
        status, detail = refusal(self.conn.trailing_data[0])
        body = json.dumps({"detail": detail}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), (b"connection", b"close")]
        for event in (h11.Response(status_code=status, headers=headers), h11.Data(data=body), h11.EndOfMessage()):
            self.transport.write(self.conn.send(event))
        self.discarding = True
        if self.transport.can_write_eof():
            self.transport.write_eof()
            self.loop.call_later(LINGER_S, self.transport.close)
        else:
            self.transport.close()


def refusal(buffered: bytes) -> tuple[int, str]:
    """The status and message for a request h11 refused, from what it had buffered of it."""
    if len(buffered) <= MAX_HEAD_BYTES:
        return 400, "malformed HTTP request"
    line_end = buffered.find(b"\r\n")
    if line_end == -1 or line_end > MAX_HEAD_BYTES:
        return 414, f"request line longer than {MAX_HEAD_BYTES:,} bytes (a query may have at most {MAX_QUERY_CHARS:,} characters)"
    return 431, f"request headers larger than {MAX_HEAD_BYTES:,} bytes"
