import json

import pytest
import torch

from engine.bench import BenchSettings, format_bench, run_bench


def test_bench_report_has_every_field(one_thread):
    settings = BenchSettings(size=64, batches=(1, 2), repeats=1, train_batch=2, train_steps=1, ngf=8, dabs=2)
    report = run_bench("cpu", settings=settings)
    json.dumps(report)  # serialisable
    assert {"device", "torch", "python", "cpu_threads"} <= set(report["machine"])
    for name in ("seed", "lite"):
        figures = report["synthesis"][name]
        assert figures["parameters"] > 0
        for batch in (1, 2):
            row = figures[f"batch_{batch}"]
            assert {"plain_ms_per_image", "optimised_ms_per_image", "plain_img_s",
                    "optimised_img_s", "ratio", "max_abs_difference", "mean_abs_difference"} <= set(row)
            assert row["max_abs_difference"] < 1e-4  # CPU: float32 optimised path
            # an untrained network pins every pixel at -1 or 1, where any two paths agree:
            # the bench spreads its output first, so that the difference means something
            assert row["saturated_share"] < 0.05
            assert row["ratio"] == pytest.approx(row["plain_ms_per_image"] / row["optimised_ms_per_image"], rel=0.02)
    for preset in ("lite", "seed"):
        training = report["training"][preset]
        for path in ("plain", "optimised"):
            row = training[path]
            assert row["img_s"] > 0 and row["gflop_per_iteration"] > 0
            assert 0 < row["percent_of_peak"] < 100  # FLOPs counted, the peak measured
        assert training["plain"]["dtype"] == "float32"
    assert set(report["peaks"]) == {"float32", "bfloat16"}
    for name in ("seed", "lite"):
        incremental = report["incremental"][name]
        assert incremental["max_abs_difference"] < 1e-4  # the full pass's image
        assert incremental["saturated_share"] < 0.05
        assert len(incremental["dabs"]) == 2 and incremental["full_ms"] > 0
    assert "seed" in format_bench(report) and "lite" in format_bench(report)
    assert "% of the" in format_bench(report) and "incremental (lite" in format_bench(report)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_bench_runs_on_cuda():
    settings = BenchSettings(size=256, batches=(1, 16), repeats=2, train_batch=4, train_steps=2)
    report = run_bench("cuda", settings=settings)
    assert report["machine"]["gpu"]
    row = report["synthesis"]["seed"]["batch_16"]
    assert row["optimised_img_s"] > 0
    # bfloat16 against float32: about one grey level on average
    assert row["mean_abs_difference"] < 0.02
    assert "CUDA graphs" in report["synthesis"]["seed"]["optimised_path"]


def test_incremental_timing_leaves_out_each_dabs_first_update(one_thread, monkeypatch):
    """A dab's first update allocates its region's buffers; the timed ones come after it."""
    import engine.fast.incremental
    from engine.bench import bench_configs, bench_incremental
    from engine.progress import no_progress

    updates = []

    class Counted(engine.fast.incremental.IncrementalGenerator):
        def __call__(self, seg, labels=None, noise=None):
            updates.append(labels.clone())
            return super().__call__(seg, labels, noise)

    monkeypatch.setattr(engine.fast.incremental, "IncrementalGenerator", Counted)
    settings = BenchSettings(size=64, repeats=3, ngf=8, dabs=2)
    row = bench_incremental(bench_configs(8)["lite"], torch.device("cpu"), settings, no_progress, "incremental")
    base = updates[0]
    painted = [labels for labels in updates if not torch.equal(labels, base)]
    assert len(row["dabs"]) == 2
    assert len(painted) == 2 * (1 + settings.repeats)  # per dab: one warm-up, then the timed repeats


def test_synthesis_timing_tells_every_run(one_thread):
    """One run of a full-size network takes seconds on a CPU: each is told, not each batch."""
    from engine.bench import bench_configs, bench_synthesis

    events = []
    settings = BenchSettings(size=64, batches=(1, 2), repeats=2, ngf=8)
    bench_synthesis(bench_configs(8)["lite"], torch.device("cpu"), settings, events.append, "synthesis (lite)")
    runs = len(settings.batches) * 2 * (1 + settings.repeats)
    assert [e.done for e in events] == list(range(1, runs + 1))
    assert {e.total for e in events} == {runs} and {e.stage for e in events} == {"synthesis (lite)"}
