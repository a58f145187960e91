#!/usr/bin/env python3
"""A TCP proxy that injects the faults a network between s3kv and its S3 backend can have.

Each accepted connection is piped to the upstream server. A fault, drawn per connection with
a seeded random generator (so runs repeat), can be injected:

  --lose-answers P   forward the request, let the upstream answer it in full, then reset the
                     client's connection (RST) without passing the answer on: the request was
                     applied and its answer lost, as after a timeout or a reset on the way back.
  --reset-before P   reset the client's connection before forwarding anything: never applied,
                     but the client cannot tell, since it may have sent its request already.
  --delay MS         hold each answer this many milliseconds before passing it on.

Meant for upstreams that close each connection after one answer (moto does: Connection: close),
so one connection carries one request. Prints "listening on 127.0.0.1:PORT" once ready, and
counts per fault to stderr when stopped (SIGTERM or SIGINT). Loopback only.

Usage: fault-proxy.py --upstream 127.0.0.1:5000 [--port 0] [--lose-answers 0.1] [--seed 1]
"""
import argparse
import asyncio
import random
import signal
import socket
import struct
import sys


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", required=True, help="HOST:PORT of the server to proxy")
    parser.add_argument("--port", type=int, default=0, help="port to listen on, 0 for any free one")
    parser.add_argument("--lose-answers", type=float, default=0.0, metavar="P")
    parser.add_argument("--reset-before", type=float, default=0.0, metavar="P")
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


async def pipe(reader, writer, delay):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            if delay:
                await asyncio.sleep(delay / 1000)
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


async def discard(reader):
    """Reads the upstream's answer to its end, so the upstream finishes its work."""
    try:
        while await reader.read(65536):
            pass
    except ConnectionError:
        pass


async def main():
    arguments = parse_arguments()
    upstream_host, upstream_port = arguments.upstream.rsplit(":", 1)
    generator = random.Random(arguments.seed)
    counts = {"connections": 0, "answers_lost": 0, "reset_before": 0}

    async def handle(client_reader, client_writer):
        counts["connections"] += 1
        draw = generator.random()
        if draw < arguments.reset_before:
            counts["reset_before"] += 1
            reset(client_writer)
            return
        lose = draw < arguments.reset_before + arguments.lose_answers
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(upstream_host, int(upstream_port))
        except OSError:
            reset(client_writer)
            return
        forward = asyncio.create_task(pipe(client_reader, upstream_writer, 0))
        if lose:
            counts["answers_lost"] += 1
            await discard(upstream_reader)
            forward.cancel()
            reset(client_writer)
            return
        await pipe(upstream_reader, client_writer, arguments.delay)
        forward.cancel()

    server = await asyncio.start_server(handle, "127.0.0.1", arguments.port)
    port = server.sockets[0].getsockname()[1]
    print(f"listening on 127.0.0.1:{port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    # Connections still open are cut, not waited for: stopping must not hang on a client.
    server.close()
    print(" ".join(f"{name}={value}" for name, value in counts.items()), file=sys.stderr, flush=True)


if __name__ == "__main__":
    asyncio.run(main())
