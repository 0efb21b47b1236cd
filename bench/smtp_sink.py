"""A minimal SMTP sink for the benchmarks, in the spirit of Postfix's smtp-sink: it answers the commands a client
sends (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT), counts the messages and keeps nothing.

aiosmtpd, which the tests use, parses every line of every message in Python; at a thousand messages a second
on two cores that is a third of a core the application under measure does not get. This sink reads each
message as bytes until its end marker and answers; it is not an SMTP server (no size limits, no TLS, no
validation) and listens on 127.0.0.1 only.
"""
from __future__ import annotations

import asyncio
import threading

END_OF_DATA = b"\r\n.\r\n"


class _Session(asyncio.Protocol):
    def __init__(self, sink: "SmtpSink"):
        self.sink, self.buffer, self.in_data = sink, b"", False

    def connection_made(self, transport):
        self.transport = transport
        transport.write(b"220 127.0.0.1 benchmark sink ESMTP\r\n")

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            if self.in_data:
                end = self.buffer.find(END_OF_DATA)
                if end == -1:
                    if len(self.buffer) > 1 << 20:  # keep what may begin the end marker, not the message
                        self.buffer = self.buffer[-4:]
                    return
                self.buffer = self.buffer[end + len(END_OF_DATA):]
                self.in_data = False
                with self.sink.lock:
                    self.sink.count += 1
                self.transport.write(b"250 2.0.0 Ok: queued\r\n")
                continue
            line, found, rest = self.buffer.partition(b"\r\n")
            if not found:
                return
            self.buffer = rest
            verb = line[:4].upper()
            if verb == b"EHLO":
                self.transport.write(b"250-127.0.0.1\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")
            elif verb == b"DATA":
                self.in_data = True
                self.transport.write(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                self.buffer = b"\r\n" + self.buffer  # the line before the message's first: ".\r\n" at once ends it
            elif verb == b"QUIT":
                self.transport.write(b"221 2.0.0 Bye\r\n")
                self.transport.close()
                return
            else:  # HELO, MAIL, RCPT, RSET, NOOP
                self.transport.write(b"250 2.0.0 Ok\r\n")


class SmtpSink:
    """Start with `start()` (a thread of its own with its event loop), stop with `stop()`; `count` messages."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.host, self.port, self.count = host, port, 0
        self.lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._server = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="smtp-sink", daemon=True)

    def start(self) -> "SmtpSink":
        self._server = self._loop.run_until_complete(
            self._loop.create_server(lambda: _Session(self), self.host, self.port))
        self.port = self._server.sockets[0].getsockname()[1]
        self._thread.start()
        return self

    def stop(self) -> None:
        async def close():
            self._server.close()
            await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout=5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
