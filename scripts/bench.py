#!/usr/bin/env python3
"""The benchmark run behind scripts/bench: s3kv against its references, in one table.

Starts everything on free loopback ports and stops it by PID: nginx serving a small static file
(the HTTP ceiling of this machine), the smallest Hummingbird server (the framework's ceiling),
moto_server (the S3 backend), and s3kv in the configuration each row needs. Load comes from wrk
with CONNECTIONS connections. Each s3kv figure is compared with its reference: nginx for cached
reads, the same request sent straight to the backend for S3 misses and writes. Backend requests
per HTTP request come from s3kv's own /metrics.

With PIN_BACKEND=1 (the default) and at least two CPUs, moto runs on a CPU of its own and
everything else on the rest, for the direct requests and s3kv's alike: in a deployment the
backend does not share s3kv's cores, and moto is single-threaded Python whose throughput drops
with every cycle the load generator or s3kv takes from its core.
"""

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

BINARY = sys.argv[1]
FLOOR = sys.argv[2]
DURATION = os.environ.get("DURATION", "10s")
CONNECTIONS = int(os.environ.get("CONNECTIONS", "32"))
THREADS = int(os.environ.get("THREADS", "2"))
VALUE = b"v" * int(os.environ.get("VALUE_BYTES", "100"))
WRITE_ID_BYTES = 16
KEYS = 1000
WORK = tempfile.mkdtemp(prefix="s3kv-bench-")
processes = []
CPUS = sorted(os.sched_getaffinity(0))
PIN_BACKEND = os.environ.get("PIN_BACKEND", "1") == "1" and len(CPUS) >= 2
BACKEND_CPUS = {CPUS[-1]} if PIN_BACKEND else None
OTHER_CPUS = set(CPUS[:-1]) if PIN_BACKEND else None


on_cpus = benchlib.on_cpus
free_port = benchlib.free_port
wait_until_answers = benchlib.wait_until_answers
request = benchlib.request
status_mib = benchlib.status_mib


def start(arguments, env=None, log="process.log", cpus=None):
    process = subprocess.Popen(
        arguments, env=env, stdout=open(os.path.join(WORK, log), "w"), stderr=subprocess.STDOUT, preexec_fn=on_cpus(cpus)
    )
    processes.append(process)
    return process


def stop(process):
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def peak_rss_mib(process):
    return status_mib(process, "VmHWM")


def backend_requests(base):
    text = request("GET", base + "/metrics").decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith("s3kv_backend_requests_total{"))


def http_requests(base):
    text = request("GET", base + "/metrics").decode()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("s3kv_http_requests_total{") and 'route="/kv/{key}"' in line
    )


def wrk(url, script, connections=CONNECTIONS, duration=DURATION, env=None, allow_errors=False, cpus=None):
    return benchlib.wrk(url, script, connections, duration, THREADS, env=env, allow_errors=allow_errors, cpus=cpus)


def s3kv(env, name, cpus=None):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = start(
        [BINARY], env={**os.environ, "HOST": "127.0.0.1", "PORT": str(port), "LOG_LEVEL": "warning", **env}, log=f"{name}.log", cpus=cpus
    )
    started = time.monotonic()
    ready = wait_until_answers(base + "/health", process) - started
    return process, base, ready


def fill(base, prefix="key"):
    for index in range(KEYS):
        request("PUT", f"{base}/kv/{prefix}-{index}", VALUE)


rows = []


def measure(label, process, base, script, reference=None, counting=True, env=None, cpus=None):
    before = (backend_requests(base), http_requests(base)) if counting else None
    result = wrk(f"{base}/kv/key-0", script, env=env, cpus=cpus)
    if counting:
        after = (backend_requests(base), http_requests(base))
        result["backend_per_request"] = (after[0] - before[0]) / max(after[1] - before[1], 1)
    result["rss"] = peak_rss_mib(process)
    result["label"] = label
    result["reference"] = reference
    rows.append(result)
    return result


try:
    # References: nginx serving a static file of the same size as the values.
    root = os.path.join(WORK, "www")
    os.makedirs(os.path.join(root, "kv"))
    with open(os.path.join(root, "kv", "key-0"), "wb") as f:
        f.write(VALUE)
    nginx_port = free_port()
    with open(os.path.join(WORK, "nginx.conf"), "w") as conf:
        conf.write(f"""daemon off; worker_processes auto; pid {WORK}/nginx.pid; error_log {WORK}/nginx-error.log;
events {{ worker_connections 4096; }}
http {{ access_log off; client_body_temp_path {WORK}; proxy_temp_path {WORK}; fastcgi_temp_path {WORK};
  uwsgi_temp_path {WORK}; scgi_temp_path {WORK};
  server {{ listen 127.0.0.1:{nginx_port}; root {root}; keepalive_requests 1000000; }} }}
""")
    nginx = start(["nginx", "-c", os.path.join(WORK, "nginx.conf"), "-p", WORK], log="nginx.log")
    wait_until_answers(f"http://127.0.0.1:{nginx_port}/kv/key-0", nginx)
    nginx_get = wrk(f"http://127.0.0.1:{nginx_port}/kv/key-0", "get.lua")
    nginx_get["label"] = "nginx static file (HTTP ceiling)"
    rows.append(nginx_get)
    stop(nginx)

    # The framework's ceiling: the smallest Hummingbird server answering the same value.
    def floor_server():
        port = free_port()
        process = start([FLOOR], env={**os.environ, "PORT": str(port), "VALUE_BYTES": str(len(VALUE))}, log="floor.log")
        wait_until_answers(f"http://127.0.0.1:{port}/kv/key-0", process)
        return process, f"http://127.0.0.1:{port}/kv/key-0"

    floor, floor_url = floor_server()
    floor_get = wrk(floor_url, "get.lua")
    floor_get.update(label="Hummingbird floor: smallest server, same value (framework ceiling)", reference=nginx_get)
    rows.append(floor_get)
    stop(floor)
    floor, floor_url = floor_server()
    wrk(floor_url, "get.lua", connections=1000, duration="5s", allow_errors=True)
    floor_1000 = (peak_rss_mib(floor), status_mib(floor, "RssAnon"))
    stop(floor)

    # The S3 backend, and the same requests sent to it directly.
    moto_port = free_port()
    moto = start(["moto_server", "-H", "127.0.0.1", "-p", str(moto_port)], log="moto.log", cpus=BACKEND_CPUS)
    moto_base = f"http://127.0.0.1:{moto_port}"
    wait_until_answers(moto_base + "/moto-api/", moto)
    s3_env = {
        "S3_ENDPOINT": moto_base, "S3_BUCKET": "bench", "S3_ACCESS_KEY": "bench", "S3_SECRET_KEY": "bench-secret",
        "S3_CREATE_BUCKET": "true",
    }

    # Embedded store: cached reads, uncached reads, durable writes, a 90/10 mix.
    data = os.path.join(WORK, "data")
    process, base, ready = s3kv({"KV_STORAGE": "local", "KV_DATA_DIR": data}, "local")
    fill(base)
    hit = measure("GET cache hit (embedded)", process, base, "get.lua", reference=nginx_get)
    measure("PUT (embedded, durable)", process, base, "put.lua", env={"BENCH_BODY_BYTES": str(len(VALUE))})
    measure("90/10 GET/PUT mix (embedded)", process, base, "mix.lua", env={"BENCH_BODY_BYTES": str(len(VALUE))})
    stop(process)
    # The same cached GET with access control on: a token file, a read token on every request.
    token = "bench-" + os.urandom(16).hex()
    tokens_file = os.path.join(WORK, "tokens.json")
    with open(tokens_file, "w") as f:
        f.write('{"tokens": [{"name": "bench", "scope": "read", "sha256": "%s"}]}' % hashlib.sha256(token.encode()).hexdigest())
    process, base, _ = s3kv(
        {"KV_STORAGE": "local", "KV_DATA_DIR": data, "KV_AUTH_TOKENS_FILE": tokens_file, "KV_AUTH_OPEN_ENDPOINTS": "/metrics"}, "local-auth"
    )
    request("GET", f"{base}/kv/key-0", headers={"Authorization": f"Bearer {token}"})
    measure("GET cache hit (embedded, access control on)", process, base, "get.lua", reference=hit,
            env={"BENCH_HEADERS": f"Authorization: Bearer {token}"})
    stop(process)
    # Memory with 1,000 open connections, in a fresh process holding the 1,000 keys.
    process, base, _ = s3kv({"KV_STORAGE": "local", "KV_DATA_DIR": data}, "local-connections")
    idle = (peak_rss_mib(process), status_mib(process, "RssAnon"))
    fill(base)
    many = wrk(f"{base}/kv/key-0", "get.lua", connections=1000, duration="5s", allow_errors=True)
    rss_1000 = (peak_rss_mib(process), status_mib(process, "RssAnon"))
    stop(process)
    process, base, _ = s3kv({"KV_STORAGE": "local", "KV_DATA_DIR": data, "KV_CACHE_BYTES": "0"}, "local-nocache")
    measure("GET cache off (embedded)", process, base, "get.lua")
    stop(process)

    # S3 (moto): uncached reads and writes, each against the same request sent to moto directly.
    process, base, s3_ready = s3kv({**s3_env, "KV_CACHE_BYTES": "0"}, "s3", cpus=OTHER_CPUS)
    fill(base)
    # The direct reads fetch a copy of the very object s3kv reads (same body, type and metadata).
    # Unsigned requests are anonymous to moto, so the copy is public.
    direct_read = f"{moto_base}/bench/direct/read"
    request("PUT", direct_read, headers={"x-amz-copy-source": "/bench/kv/key-0", "x-amz-acl": "public-read"})
    body, headers = request("GET", direct_read, with_headers=True)
    # s3kv stores the value followed by its 16-byte write id (the trailer that makes every
    # write's ETag unique); the direct requests move the same object, trailer included.
    if body[:len(VALUE)] != VALUE or len(body) != len(VALUE) + WRITE_ID_BYTES:
        raise SystemExit(f"the direct read answers {len(body)} bytes, not the {len(VALUE)} + {WRITE_ID_BYTES} s3kv stored")
    # The direct writes carry the content type and metadata headers s3kv's own writes carry.
    stored = "\n".join(f"{name}: {value}" for name, value in headers.items() if name.lower() == "content-type" or name.lower().startswith("x-amz-meta-"))
    direct_get = wrk(direct_read, "get.lua", cpus=OTHER_CPUS)
    direct_get["label"] = "S3 GET sent to moto directly (backend ceiling)"
    rows.append(direct_get)
    measure("GET cache off (S3)", process, base, "get.lua", reference=direct_get, cpus=OTHER_CPUS)
    put_env = {"BENCH_BODY_BYTES": str(len(VALUE))}
    direct_put = wrk(f"{moto_base}/bench/direct/x", "put.lua", env={"BENCH_BODY_BYTES": str(len(body)), "BENCH_HEADERS": stored}, cpus=OTHER_CPUS)
    direct_put["label"] = "S3 PUT sent to moto directly (backend ceiling)"
    rows.append(direct_put)
    measure("PUT (S3)", process, base, "put.lua", reference=direct_put, env=put_env, cpus=OTHER_CPUS)
    stop(process)
    process, base, _ = s3kv(s3_env, "s3-cached", cpus=OTHER_CPUS)
    fill(base)
    measure("90/10 GET/PUT mix (S3, cache on)", process, base, "mix.lua", env=put_env, cpus=OTHER_CPUS)
    stop(process)

    pinning = f"moto on CPU {CPUS[-1]}, s3kv and wrk on the others for the S3 rows" if PIN_BACKEND else "nothing pinned"
    print(f"\nwrk: {THREADS} threads, {CONNECTIONS} connections, {DURATION} per row; values of {len(VALUE)} bytes; {pinning}\n")
    print("| Row | req/s | p50 ms | p99 ms | ratio to reference | backend requests per request | peak RSS MiB |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        ratio = f"{row['rps'] / row['reference']['rps']:.2f}" if row.get("reference") else ""
        per = f"{row['backend_per_request']:.2f}" if "backend_per_request" in row else ""
        rss = f"{row['rss']:.0f}" if "rss" in row else ""
        print(f"| {row['label']} | {row['rps']:.0f} | {row['p50']:.2f} | {row['p99']:.2f} | {ratio} | {per} | {rss} |")
    print(
        f"\nGET cache hit with 1,000 connections (fresh process, 1,000 keys cached): {many['rps']:.0f} req/s, "
        f"peak RSS {rss_1000[0]:.0f} MiB, anonymous {rss_1000[1]:.0f} MiB (idle: {idle[0]:.0f} MiB, anonymous {idle[1]:.0f} MiB)"
    )
    print(f"Cached GET against the Hummingbird floor: {hit['rps'] / floor_get['rps']:.2f}")
    print(f"Hummingbird floor with 1,000 connections: peak RSS {floor_1000[0]:.0f} MiB, anonymous {floor_1000[1]:.0f} MiB")
    print(f"Ready to serve after start: {ready * 1000:.0f} ms (embedded store), {s3_ready * 1000:.0f} ms (S3, bucket check included)")
finally:
    for process in processes:
        if process.poll() is None:
            stop(process)
    shutil.rmtree(WORK, ignore_errors=True)
