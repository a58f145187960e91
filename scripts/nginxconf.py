#!/usr/bin/env python3
"""deploy/nginx.conf for a cluster on loopback: its listen port and the upstream servers between
its markers replaced. One renderer for scripts/cluster and the cluster tests, so both run the
very file the repository ships.

  scripts/nginxconf.py LISTEN_PORT UPSTREAM_PORT...   # prints the configuration
"""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def render(port, upstreams):
    """The configuration; fails if deploy/nginx.conf lacks its cluster markers."""
    lines, skipping, found = [], False, {"upstreams": False, "listen": False}
    with open(os.path.join(ROOT, "deploy", "nginx.conf")) as f:
        for line in f.read().split("\n"):
            if "# cluster-upstreams-begin" in line:
                skipping, found["upstreams"] = True, True
                lines.append(line)
                lines += [f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=2s;" for p in upstreams]
            elif "# cluster-upstreams-end" in line:
                skipping = False
                lines.append(line)
            elif "# cluster-listen" in line:
                found["listen"] = True
                lines.append(f"        listen 127.0.0.1:{port};")
            elif not skipping:
                lines.append(line)
    missing = [name for name, seen in found.items() if not seen]
    if missing:
        raise SystemExit(f"deploy/nginx.conf lacks its cluster markers: {', '.join(missing)}")
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    sys.stdout.write(render(int(sys.argv[1]), [int(p) for p in sys.argv[2:]]))
