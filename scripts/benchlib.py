"""Helpers shared by the benchmark scripts: free loopback ports, processes stopped by PID, wrk runs
read through scripts/wrk/report.lua, RSS from /proc, and SigV4 presigned URLs.

Presigned URLs let wrk (which cannot sign) send signed S3 requests: each URL carries its own
query signature, so the server under test verifies a signature on every request, as it does in
production, at no cost to the load generator.
"""

import datetime
import hashlib
import hmac
import json
import os
import socket
import subprocess
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def on_cpus(cpus):
    """A preexec_fn that confines the child (and every thread it starts) to `cpus`."""
    return (lambda: os.sched_setaffinity(0, cpus)) if cpus else None


class Processes:
    """Every process a run starts, each with its log in `work`, all stopped at the end."""

    def __init__(self, work):
        self.work = work
        self.running = []

    def start(self, arguments, env=None, log="process.log", cpus=None):
        path = os.path.join(self.work, log)
        process = subprocess.Popen(
            arguments, env=env, stdout=open(path, "w"), stderr=subprocess.STDOUT, preexec_fn=on_cpus(cpus),
        )
        process.log_path = path
        self.running.append(process)
        return process

    @staticmethod
    def stop(process):
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def stop_all(self):
        for process in reversed(self.running):
            if process.poll() is None:
                self.stop(process)


def wait_until_answers(url, process, seconds=30):
    """Polls `url` until it answers 2xx; returns the monotonic time it first did."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = getattr(process, "log_path", None)
            tail = open(log).read()[-2000:] if log and os.path.exists(log) else ""
            raise SystemExit(f"{' '.join(process.args)} exited early:\n{tail}")
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return time.monotonic()
        except Exception:
            time.sleep(0.005)
    raise SystemExit(f"nothing answers at {url}")


def request(method, url, body=None, headers=None, with_headers=False):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    with urllib.request.urlopen(req, timeout=60) as response:
        return (response.read(), response.headers) if with_headers else response.read()


def status_mib(process, field):
    """A field of /proc/PID/status (VmRSS, VmHWM, RssAnon) in MiB."""
    with open(f"/proc/{process.pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def wrk(url, script, connections, duration, threads=2, env=None, allow_errors=False, cpus=None):
    """One wrk run; {rps, p50, p99} with latencies in ms. Any error fails the run unless allowed."""
    arguments = [
        "wrk", "-t", str(threads), "-c", str(connections), "-d", duration, "--timeout", "10s", "--latency",
        "-s", os.path.join(HERE, "wrk", script), url,
    ]
    output = subprocess.run(
        arguments, capture_output=True, text=True, env={**os.environ, **(env or {})}, check=True, preexec_fn=on_cpus(cpus)
    ).stdout
    result = json.loads(output.strip().splitlines()[-1])
    if result["errors"] and not allow_errors:
        raise SystemExit(f"wrk saw {result['errors']} errors against {url}:\n{output}")
    return {"rps": result["requests"] / (result["duration_us"] / 1e6), "p50": result["p50"] / 1000, "p99": result["p99"] / 1000}


def _hmac(key, text):
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def presign(method, base, path, access_key, secret_key, region="us-east-1", expires=3600):
    """A SigV4 query-signed URL (UNSIGNED-PAYLOAD, only `host` signed) for `path` on `base`.

    `path` is the raw request path; it is percent-encoded here as S3 canonicalises it.
    """
    host = urllib.parse.urlsplit(base).netloc
    now = datetime.datetime.now(datetime.timezone.utc)
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    scope = f"{stamp[:8]}/{region}/s3/aws4_request"
    query = {
        "X-Amz-Algorithm": "AWS4-HMAC-SHA256", "X-Amz-Credential": f"{access_key}/{scope}", "X-Amz-Date": stamp,
        "X-Amz-Expires": str(expires), "X-Amz-SignedHeaders": "host",
    }
    canonical_query = "&".join(
        f"{urllib.parse.quote(k, safe='-_.~')}={urllib.parse.quote(v, safe='-_.~')}" for k, v in sorted(query.items())
    )
    canonical_path = urllib.parse.quote(path, safe="/-_.~")
    canonical = "\n".join([method, canonical_path, canonical_query, f"host:{host}\n", "host", "UNSIGNED-PAYLOAD"])
    to_sign = "\n".join(["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + secret_key).encode()
    for part in (stamp[:8], region, "s3", "aws4_request"):
        key = _hmac(key, part)
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return f"{canonical_path}?{canonical_query}&X-Amz-Signature={signature}"


def print_table(rows):
    print("| Row | req/s | p50 ms | p99 ms | ratio to reference | peak RSS MiB |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        ratio = f"{row['rps'] / row['reference']['rps']:.2f}" if row.get("reference") else ""
        rss = f"{row['rss']:.0f}" if "rss" in row else ""
        print(f"| {row['label']} | {row['rps']:.0f} | {row['p50']:.2f} | {row['p99']:.2f} | {ratio} | {rss} |")
