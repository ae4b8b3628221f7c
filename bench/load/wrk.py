"""ATP GET capacity measured with wrk, so the figure is not a Python client's ceiling.

wrk (a C load generator; Debian package `wrk`) is optional: without it the figures say
"wrk not installed". A Lua script walks a Zipf-skewed list of SKU paths.
"""

import asyncio
import re
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

NOT_INSTALLED = "wrk not installed"
THREADS = 1  # one C thread outruns a Python server; the other core stays with the server
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}
_PERCENTILE = re.compile(r"^\s*(50|90|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s|m)\s*$", re.MULTILINE)
_RATE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_TOTAL = re.compile(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m)", re.MULTILINE)
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


def installed() -> bool:
    """Whether wrk is on the PATH."""
    return shutil.which("wrk") is not None


def lua_script(paths: Sequence[str]) -> str:
    """A wrk script sending GETs for `paths` in turn."""
    listed = ",\n".join(f'  "{path}"' for path in paths)
    return (
        f"local paths = {{\n{listed}\n}}\n"
        "local i = 0\n"
        "request = function()\n"
        "  i = i % #paths + 1\n"
        '  return wrk.format("GET", paths[i])\n'
        "end\n"
    )


def parse(output: str) -> dict[str, Any]:
    """Requests, req/s, p50/p90/p99 in ms and errors (non-2xx and socket) of wrk's report."""
    rate, total = _RATE.search(output), _TOTAL.search(output)
    if rate is None or total is None:
        raise ValueError(f"not a wrk report: {output[-500:]!r}")
    non_2xx = _NON_2XX.search(output)
    socket = _SOCKET.search(output)
    return {
        "requests": int(total.group(1)),
        "rps": float(rate.group(1)),
        "latency_ms": {
            f"p{mark}": float(value) * _UNITS[unit]
            for mark, value, unit in _PERCENTILE.findall(output)
        },
        "errors": (int(non_2xx.group(1)) if non_2xx else 0)
        + (sum(int(n) for n in socket.groups()) if socket else 0),
    }


async def run(
    url: str, script: Path, connections: int, seconds: float, within: float
) -> dict[str, Any]:
    """One wrk run against `url` (the script picks the paths); its parsed figures."""
    child = await asyncio.create_subprocess_exec(
        "wrk",
        f"-t{THREADS}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--latency",
        "-s",
        str(script),
        url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        out, _ = await asyncio.wait_for(child.communicate(), within)
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()
    if child.returncode != 0:
        raise RuntimeError(f"wrk exited with {child.returncode}: {out.decode()[-500:]}")
    return parse(out.decode())
