"""Reading wrk's report: the ATP capacity a C client measured, and its errors."""

import pytest

from bench.load import wrk

REPORT = """\
Running 5s test @ http://127.0.0.1:8080
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.10ms  444.26us  10.47ms   90.04%
    Req/Sec    15.34k   614.38    16.10k    72.00%
  Latency Distribution
     50%  812.00us
     75%    2.18ms
     90%    2.40ms
     99%    1.20s
  76340 requests in 5.00s, 18.35MB read
  Non-2xx or 3xx responses: 12
  Socket errors: connect 0, read 2, write 0, timeout 3
Requests/sec:  15263.80
Transfer/sec:      3.67MB
"""


def test_the_rate_percentiles_in_ms_and_every_error_are_read_from_wrk() -> None:
    figures = wrk.parse(REPORT)
    assert figures["rps"] == pytest.approx(15263.80)
    assert figures["requests"] == 76340
    assert figures["latency_ms"] == pytest.approx({"p50": 0.812, "p90": 2.40, "p99": 1200.0})
    assert figures["errors"] == 12 + 2 + 3


def test_a_clean_run_has_no_errors() -> None:
    clean = REPORT.replace("  Non-2xx or 3xx responses: 12\n", "").replace(
        "  Socket errors: connect 0, read 2, write 0, timeout 3\n", ""
    )
    assert wrk.parse(clean)["errors"] == 0


def test_output_that_is_not_a_wrk_report_is_refused() -> None:
    with pytest.raises(ValueError, match="not a wrk report"):
        wrk.parse("unknown option --latency\n")


def test_the_script_requests_every_path_in_turn() -> None:
    script = wrk.lua_script(["/v1/atp/A", "/v1/atp/B"])
    assert '"/v1/atp/A",\n  "/v1/atp/B"' in script
    assert 'return wrk.format("GET", paths[i])' in script
