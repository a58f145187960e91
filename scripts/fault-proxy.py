#!/usr/bin/env python3
"""A TCP proxy that injects the faults a network between s3kv and its S3 backend can have.

Each accepted connection is piped to the upstream server, which is expected to close each
connection after one answer (moto does: Connection: close), so one connection carries one
request. Per connection, a seeded random generator (so runs repeat) draws which fault, if any,
it gets:

  --lose-answers P   forward the request, let the upstream answer it in full, then reset the
                     client's connection without passing the answer on: applied, answer lost.
  --reset-before P   reset the client's connection before forwarding anything: never applied,
                     though the client cannot tell.
  --error-500 P      answer 500 InternalError without forwarding.
  --error-503 P      answer 503 SlowDown without forwarding.
  --reset-mid P      pass on the first bytes of the answer, then reset.
  --delay MS         hold each answer this many milliseconds before passing it on.

The mode applies to every connection, new or kept alive: normal (the faults above), blackhole
(accept and never answer; open connections go silent), refuse (stop listening, so connections
are refused; open ones are reset).

Everything can be changed while it runs through a control port (loopback, plain HTTP):
  GET /set?mode=blackhole&delay=2000&lose-answers=0.1&...   changes settings; answers them as JSON
  GET /stats                                                counts per fault, as JSON

Prints "listening on 127.0.0.1:PORT control 127.0.0.1:CONTROL" once ready, and the counts to
stderr when stopped (SIGTERM or SIGINT). Loopback only.

Usage: fault-proxy.py --upstream 127.0.0.1:5000 [--port 0] [--control-port 0] [--seed 1] [faults]
"""
import argparse
import asyncio
import json
import random
import signal
import socket
import struct
import sys
import urllib.parse

FAULTS = ("lose-answers", "reset-before", "error-500", "error-503", "reset-mid")


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", required=True, help="HOST:PORT of the server to proxy")
    parser.add_argument("--port", type=int, default=0, help="port to listen on, 0 for any free one")
    parser.add_argument("--control-port", type=int, default=0, help="port of the control endpoint, 0 for any free one")
    parser.add_argument("--mode", default="normal", choices=["normal", "blackhole", "refuse"])
    for fault in FAULTS:
        parser.add_argument(f"--{fault}", type=float, default=0.0, metavar="P")
    parser.add_argument("--delay", type=float, default=0.0, metavar="MS")
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args()


def reset(writer):
    """Closes with RST rather than FIN: SO_LINGER on, with a zero timeout."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    writer.transport.abort()


def error_answer(status, code, message):
    body = f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>'.encode()
    reason = {500: "Internal Server Error", 503: "Service Unavailable"}[status]
    head = f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/xml\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    return head.encode() + body


class Proxy:
    def __init__(self, arguments):
        self.upstream_host, upstream_port = arguments.upstream.rsplit(":", 1)
        self.upstream_port = int(upstream_port)
        self.port = arguments.port
        self.generator = random.Random(arguments.seed)
        self.settings = {"mode": arguments.mode, "delay": arguments.delay}
        for fault in FAULTS:
            self.settings[fault] = getattr(arguments, fault.replace("-", "_"))
        self.counts = {"connections": 0, "forwarded": 0, "blackholed": 0, **{fault: 0 for fault in FAULTS}}
        self.server = None
        self.held = set()
        self.active = set()

    async def start_listening(self):
        if self.server is None:
            self.server = await asyncio.start_server(self.handle, "127.0.0.1", self.port, reuse_address=True)
            self.port = self.server.sockets[0].getsockname()[1]

    def stop_listening(self):
        if self.server is not None:
            self.server.close()
            self.server = None

    def draw(self):
        """The fault for one connection, or None."""
        value = self.generator.random()
        for fault in FAULTS:
            if value < self.settings[fault]:
                return fault
            value -= self.settings[fault]
        return None

    async def handle(self, client_reader, client_writer):
        self.counts["connections"] += 1
        if self.settings["mode"] == "blackhole":
            # Accepted, read, never answered: kept until the client gives up or the mode changes.
            self.counts["blackholed"] += 1
            self.held.add(client_writer)
            try:
                while await client_reader.read(65536):
                    pass
            except ConnectionError:
                pass
            self.held.discard(client_writer)
            client_writer.close()
            return
        fault = self.draw()
        if fault:
            self.counts[fault] += 1
        if fault == "reset-before":
            reset(client_writer)
            return
        if fault in ("error-500", "error-503"):
            await client_reader.read(65536)
            client_writer.write(error_answer(500, "InternalError", "injected") if fault == "error-500" else error_answer(503, "SlowDown", "injected"))
            await client_writer.drain()
            client_writer.close()
            return
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(self.upstream_host, self.upstream_port)
        except OSError:
            reset(client_writer)
            return
        self.counts["forwarded"] += 1
        self.active.add(client_writer)
        forward = asyncio.create_task(self.pipe(client_reader, upstream_writer, 0))
        try:
            if fault == "lose-answers":
                while await upstream_reader.read(65536):
                    pass
                reset(client_writer)
            elif fault == "reset-mid":
                first = await upstream_reader.read(32)
                client_writer.write(first)
                await client_writer.drain()
                reset(client_writer)
            else:
                await self.pipe(upstream_reader, client_writer, self.settings["delay"])
        except ConnectionError:
            reset(client_writer)
        finally:
            self.active.discard(client_writer)
            forward.cancel()
            upstream_writer.close()

    async def pipe(self, reader, writer, delay):
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                if delay:
                    await asyncio.sleep(delay / 1000)
                if self.settings["mode"] == "blackhole":
                    # A kept-alive connection goes as silent as a new one would.
                    continue
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            try:
                writer.close()
            except Exception:
                pass

    async def control(self, reader, writer):
        """GET /set?... and GET /stats, one per connection."""
        try:
            line = (await reader.readline()).decode()
            while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                pass
            target = line.split(" ")[1] if " " in line else "/"
            url = urllib.parse.urlsplit(target)
            if url.path == "/set":
                for name, value in urllib.parse.parse_qsl(url.query):
                    if name == "mode":
                        self.settings["mode"] = value
                    elif name in self.settings:
                        self.settings[name] = float(value)
                if self.settings["mode"] == "refuse":
                    self.stop_listening()
                    # The upstream is gone: kept-alive connections break as new ones are refused.
                    for active in list(self.active):
                        reset(active)
                    self.active.clear()
                else:
                    await self.start_listening()
                if self.settings["mode"] != "blackhole":
                    for held in list(self.held):
                        reset(held)
                    self.held.clear()
                body = json.dumps(self.settings)
            else:
                body = json.dumps(self.counts)
            writer.write(f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n{body}".encode())
            await writer.drain()
        finally:
            writer.close()


async def main():
    arguments = parse_arguments()
    proxy = Proxy(arguments)
    await proxy.start_listening()
    if arguments.mode == "refuse":
        proxy.stop_listening()
    control = await asyncio.start_server(proxy.control, "127.0.0.1", arguments.control_port)
    control_port = control.sockets[0].getsockname()[1]
    print(f"listening on 127.0.0.1:{proxy.port} control 127.0.0.1:{control_port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    # Connections still open are cut, not waited for: stopping must not hang on a client.
    proxy.stop_listening()
    control.close()
    print(" ".join(f"{name}={value}" for name, value in proxy.counts.items()), file=sys.stderr, flush=True)


if __name__ == "__main__":
    asyncio.run(main())
