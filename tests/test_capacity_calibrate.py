"""`planner calibrate`: measured benchmark points replace the default efficiencies for a model x GPU."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from planner import calibrate as cal
from planner.capacity import Settings
from planner.errors import InputError

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "calibrate"
VLLM = FIX / "vllm_bench_serve_llama70b_fp8_2xh100.json"
SWEEP = FIX / "vllm_bench_serve_sweep.jsonl"
GUIDELLM = FIX / "guidellm_llama8b_h100.json"


def test_reads_a_vllm_bench_serve_result():
    tool, points = cal.read_points(VLLM)
    assert tool == "vllm-bench-serve" and len(points) == 1
    p = points[0]
    assert p.served_model == "RedHatAI/Llama-3.3-70B-Instruct-FP8-dynamic"
    assert (p.input_tokens, p.output_tokens) == (5000, 500)
    assert p.max_concurrency == 25 and p.request_rate == "inf"
    assert p.mean_tpot_ms == 38.75 and p.mean_ttft_ms == 688.7


def test_reads_append_result_json_lines_and_guidellm():
    tool, points = cal.read_points(SWEEP)
    assert tool == "vllm-bench-serve" and [p.max_concurrency for p in points] == [25, 50]
    tool, points = cal.read_points(GUIDELLM)
    assert tool == "guidellm" and points[0].measured_concurrency == pytest.approx(63.2)
    assert points[0].served_model == "meta-llama/Llama-3.1-8B-Instruct"


def test_nim_points_calibrate_close_to_one():
    """The default dense profile was fitted on these points (capacity.md §3.4): decode factor ~1,
    and TTFT ~1.25-1.35x the raw roofline (the overhead factor capacity.md recommends)."""
    _, points = cal.read_points(SWEEP)
    rows = cal.calibrate_points(points, model="llama-3.3-70b", gpu="h100", gpus=2, settings=Settings())
    assert [round(r.concurrency) for r in rows] == [25, 50]
    for r in rows:
        assert 0.85 <= r.decode_factor <= 1.15
        assert 1.1 <= r.ttft_factor <= 1.5
        assert r.warnings == []


def test_cli_stores_calibrations_and_scoring_uses_them(cli, tmp_path):
    db = tmp_path / "p.duckdb"
    r = cli("calibrate", SWEEP, "--gpu", "h100", "--gpus", "2", "--db", db, "--json")
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["tool"] == "vllm-bench-serve" and len(out["points"]) == 2
    assert out["points"][0]["model"] == "llama-3.3-70b"              # found from model_id
    r = cli("sql", "select model, gpu, gpus, count(*) from calibrations group by all", "--db", db, "--format", "json")
    assert json.loads(r.stdout) == [{"model": "llama-3.3-70b", "gpu": "h100", "gpus": 2, "count_star()": 2}]
    est = cli("estimate", "--requests-per-day", "20000", "--input-tokens-per-day", "72000000",
              "--output-tokens-per-day", "8000000", "--cached-share", "0.6", "--model", "llama-3.3-70b", "--gpu",
              "h100", "--db", db, "--json")
    est_out = json.loads(est.stdout)
    dep = est_out["self_host"]["deployment"]
    assert dep["confidence"] == "calibrated" and "vllm_bench_serve_sweep.jsonl" in dep["calibration"]
    cal_rows = [a for a in est_out["assumptions"] if a["origin"] == "calibration"]
    assert {a["key"] for a in cal_rows} == {"calibration.llama-3.3-70b.h100.2.decode_factor",
                                            "calibration.llama-3.3-70b.h100.2.ttft_factor"}
    # re-importing the same file is idempotent
    assert cli("calibrate", SWEEP, "--gpu", "h100", "--gpus", "2", "--db", db).exit_code == 0
    r = cli("sql", "select count(*) as n from calibrations", "--db", db, "--format", "json")
    assert json.loads(r.stdout) == [{"n": 2}]


def test_calibrated_throughput_moves_capacity():
    from planner.capacity import Calibration, Shapes, build_deployment, size_one
    from planner.catalog import load_catalog

    cat = load_catalog()
    s = Settings()
    base = build_deployment(cat.model("llama-3.3-70b"), cat.gpu("h100"), 2, s)
    slow = build_deployment(cat.model("llama-3.3-70b"), cat.gpu("h100"), 2, s,
                            calibration=Calibration(decode_factor=0.7, ttft_factor=1.3, source="test"))
    shape = Shapes.one(3600, 400, 0.6, ttft_s=2.0, tpot_s=0.05)
    assert size_one(slow, shape, s)["mu_rps"] < 0.8 * size_one(base, shape, s)["mu_rps"]
    assert slow.confidence == "calibrated" and slow.error_band(s) == s.band_calibrated


def test_model_must_be_known(cli, tmp_path):
    odd = tmp_path / "odd.json"
    data = json.loads(VLLM.read_text())
    data["model_id"] = "acme/secret-model"
    odd.write_text(json.dumps(data))
    r = cli("calibrate", odd, "--gpu", "h100", "--db", tmp_path / "p.duckdb")
    assert r.exit_code == 2 and "cannot tell which catalog model" in r.stderr and "--model" in r.stderr
    r = cli("calibrate", odd, "--gpu", "h100", "--gpus", "2", "--model", "llama-3.3-70b", "--db", tmp_path / "p.duckdb")
    assert r.exit_code == 0                                     # a custom served name: the user said which model
    data["model_id"] = "Qwen/Qwen3-32B"
    odd.write_text(json.dumps(data))
    r = cli("calibrate", odd, "--gpu", "h100", "--gpus", "2", "--model", "llama-3.3-70b", "--db", tmp_path / "p.duckdb")
    assert r.exit_code == 1                                     # stored, with a warning: another catalog model
    assert "does not look like llama-3.3-70b" in r.stderr


@pytest.mark.parametrize(("content", "message"), [
    ("not json at all", "invalid JSON"),
    ('{"hello": 1}', "not a `vllm bench serve` result"),
    ('{"request_throughput": 1.0, "completed": 0, "total_input_tokens": 1, "total_output_tokens": 1}', "no successful"),
    ('{"request_throughput": 1.0, "completed": 5, "total_input_tokens": "many", "total_output_tokens": 1}', "expected a number"),
])
def test_bad_files_are_one_line_errors(cli, tmp_path, content, message):
    f = tmp_path / "bench.json"
    f.write_text(content)
    r = cli("calibrate", f, "--gpu", "h100", "--model", "llama-3.1-8b", "--db", tmp_path / "p.duckdb")
    assert r.exit_code == 2
    assert r.stderr.startswith(f"planner: error: {f}") and message in r.stderr
    assert len(r.stderr.strip().splitlines()) <= 2


def test_read_points_errors_name_the_line(tmp_path):
    bad = tmp_path / "sweep.jsonl"
    bad.write_text('{"request_throughput": 1}\n{oops\n')
    with pytest.raises(InputError, match=r"sweep.jsonl:2"):
        cal.read_points(bad)
