"""scripts/build_camus_model.sh, the bundled model's six-stage build, as its dry run prints it.

Training a stage takes hours, so these tests read the steps the script would take
(``DRY_RUN=1``) for work folders in the states a stopped build leaves behind: each stage starts
from the one before, a stage with a saved state resumes, one stopped before its first state
starts over, and a build on whole-pixel pairs has its output settings fitted to it."""

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "build_camus_model.sh"

pytestmark = pytest.mark.skipif(sys.platform == "win32" or shutil.which("bash") is None,
                                reason="the build script is a bash script")


SETTINGS = ("AUGMENT_GEOMETRY", "THREADS", "NGF", "MODEL_OUT", "DRY_RUN", "TIME_LIMIT")


def dry_run(work: Path, geometry: str = "pixel", model_out: str | None = None, time_limit: str | None = None):
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS}  # none from the caller's shell
    env.update(DRY_RUN="1", AUGMENT_GEOMETRY=geometry)
    if model_out:
        env["MODEL_OUT"] = model_out
    if time_limit:
        env["TIME_LIMIT"] = time_limit
    done = subprocess.run(["bash", str(SCRIPT), "camus.hdf5", str(work)], env=env,
                          capture_output=True, text=True, timeout=60)
    return done.returncode, [shlex.split(line) for line in done.stdout.splitlines()], done.stderr


def option(words: list[str], name: str) -> str | None:
    """The value of the last ``name`` in a command line (argparse keeps the last)."""
    values = [words[i + 1] for i, w in enumerate(words[:-1]) if w == name]
    return values[-1] if values else None


def trainings(steps):
    return [s for s in steps if s[:2] == ["cardigan", "train"]]


def test_a_fresh_build_chains_six_stages_from_one_another(tmp_path):
    work = tmp_path / "work"
    code, steps, err = dry_run(work)
    assert code == 0, err
    assert steps[0][:2] == ["cardigan", "prepare"] and option(steps[0], "--out") == str(work / "camus256")
    runs = trainings(steps)
    stages = ["base", "run", "final", "speckle", "skew", "pooled"]
    assert [option(s, "--run") for s in runs] == [str(work / name) for name in stages]
    # each stage after the first starts from the generator of the stage before it (stage 5
    # resumes a copy of stage 4's folder instead)
    for before, stage in zip(["base", "run", "final", None, "skew"], [1, 2, 3, 4, 5]):
        if before:
            assert option(runs[stage], "--init-from") == str(work / before / "model.safetensors")
    assert ["cp", "-r", str(work / "speckle"), str(work / "skew")] in steps
    assert option(runs[5], "--batch-size") == "16" and option(runs[5], "--iters") == "5360"
    assert all(option(s, "--augment-geometry") == "pixel" for s in runs)
    # nothing resumed or overwritten: no folder exists yet, and a dry run makes none
    assert not any("--resume" in s or "--overwrite" in s for s in runs if s is not runs[4])
    assert not work.exists()


def test_a_stopped_build_resumes_where_a_state_was_saved_and_starts_over_where_none_was(tmp_path):
    work = tmp_path / "work"
    (work / "camus256").mkdir(parents=True)
    (work / "camus256" / "manifest.json").write_text("{}")
    (work / "base" / "checkpoints").mkdir(parents=True)
    (work / "base" / "checkpoints" / "state_00000250.pt").write_bytes(b"")
    (work / "run" / "checkpoints").mkdir(parents=True)  # stopped before its first state
    (work / "skew").mkdir()
    code, steps, err = dry_run(work)
    assert code == 0, err
    assert not any(s[:2] == ["cardigan", "prepare"] for s in steps)
    assert not any(s[0] == "cp" for s in steps)
    base, run, final = trainings(steps)[:3]
    assert "--resume" in base and "--overwrite" not in base
    assert "--overwrite" in run and "--resume" not in run
    assert "--resume" not in final and "--overwrite" not in final


def test_a_whole_pixel_build_gets_its_output_settings_fitted_to_it(tmp_path):
    work = tmp_path / "work"
    code, steps, err = dry_run(work, "pixel", model_out=str(tmp_path / "new.safetensors"))
    assert code == 0, err
    write = next(s for s in steps if s[0] == "python")
    assert write[2:] == [str(work / "pooled" / "model.safetensors"), str(work / "untuned.safetensors"), "pixel"]
    tune = next(s for s in steps if s[:2] == ["cardigan", "tune"])
    assert option(tune, "--model") == str(work / "untuned.safetensors")
    assert option(tune, "--out") == str(tmp_path / "new.safetensors")
    for fit in ("--fit-tone", "--fit-depth-gain", "--fit-speckle-shape", "--fit-fine-filter", "--fit-tip-gain",
                "--fit-pool-detail", "--fit-ring-down", "--fit-border-soften"):
        assert option(tune, fit) == str(work / "camus256")
    assert steps[-1] == ["cardigan", "info", "--model", str(tmp_path / "new.safetensors")]


def test_a_build_on_resampled_pairs_writes_the_shipped_settings_and_fits_the_ring_down_and_border_softening(tmp_path):
    work = tmp_path / "work"
    code, steps, err = dry_run(work, "resample")
    assert code == 0, err
    write = next(s for s in steps if s[0] == "python")
    assert write[2:] == [str(work / "pooled" / "model.safetensors"), str(work / "preset.safetensors"), "resample"]
    tunes = [s for s in steps if s[:2] == ["cardigan", "tune"]]
    assert len(tunes) == 1 and option(tunes[0], "--model") == str(work / "preset.safetensors")
    assert option(tunes[0], "--out") == "resources/models/demo.safetensors"
    assert option(tunes[0], "--fit-ring-down") == option(tunes[0], "--fit-border-soften") == str(work / "camus256")
    assert not any(arg.startswith("--fit-") and arg not in ("--fit-ring-down", "--fit-border-soften")
                   for arg in tunes[0])


def test_an_unknown_geometry_is_refused_in_one_line(tmp_path):
    code, steps, err = dry_run(tmp_path / "work", "sideways")
    assert code == 2 and steps == []
    assert err.strip() == "AUGMENT_GEOMETRY must be pixel, resample or none"


def test_ngf_widens_every_stage_that_starts_a_network(tmp_path):
    work = tmp_path / "work"
    env = {**{k: v for k, v in os.environ.items() if k not in SETTINGS}, "DRY_RUN": "1", "NGF": "14"}
    done = subprocess.run(["bash", str(SCRIPT), "camus.hdf5", str(work)], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    runs = trainings([shlex.split(line) for line in done.stdout.splitlines()])
    # stage 5 resumes stage 4's run, whose width its saved configuration holds
    assert [option(s, "--ngf") for s in runs] == ["14", "14", "14", "14", None, "14"]
    _, steps, _ = dry_run(work)
    assert all(option(s, "--ngf") is None for s in trainings(steps))  # the preset's own width


def test_a_time_limit_is_shared_out_to_every_stage_as_what_is_left_of_it(tmp_path):
    from engine.cli.options import duration_value

    code, steps, err = dry_run(tmp_path / "work", time_limit="1h 30m")
    assert code == 0, err
    limits = [duration_value(option(s, "--time-limit")) for s in trainings(steps)]
    assert len(limits) == 6  # every stage, the resumed stage 5 included
    assert all(5400 - 60 < x <= 5400 for x in limits) and limits == sorted(limits, reverse=True)
    assert not any(option(s, "--time-limit") for s in steps if s[:2] != ["cardigan", "train"])
    _, steps, _ = dry_run(tmp_path / "work")
    assert not any("--time-limit" in s for s in steps)  # no limit unless one is given


def test_a_build_out_of_time_stops_with_its_own_code_before_the_next_stage(tmp_path):
    code, steps, err = dry_run(tmp_path / "work", time_limit="30s")  # under the minute a stage needs
    assert code == 75 and not trainings(steps)
    assert err.strip() == ("stopped before stage base: the time limit (30s) is reached; "
                           "run this script again to go on")


@pytest.mark.parametrize("text, why", [("soon", "is not a length of time"), ("0m", "must be more than zero")])
def test_a_wrong_time_limit_is_refused_in_one_line_before_any_step(tmp_path, text, why):
    code, steps, err = dry_run(tmp_path / "work", time_limit=text)
    assert code == 2 and steps == []
    assert err.count("\n") == 1 and why in err and err.startswith(f"TIME_LIMIT: '{text}'")


def settings_read_from_the_environment() -> set[str]:
    """The upper-case variables the script reads (its own variables are lower case; bash's
    BASH_REMATCH is no setting)."""
    import re

    names = set(re.findall(r"\$\{?([A-Z][A-Z0-9_]*)", SCRIPT.read_text())) - {"BASH_REMATCH"}
    assert "TIME_LIMIT" in names and "DRY_RUN" in names  # the pattern finds what it should
    return names


def test_the_usage_names_every_setting_the_script_reads():
    """The usage line left out TIME_LIMIT, which the comments and the README describe."""
    usage = next(line for line in SCRIPT.read_text().splitlines() if line.startswith("# Usage:"))
    names = settings_read_from_the_environment()
    assert names == set(SETTINGS)  # the tests keep each of them out of the caller's shell
    assert {name for name in names if f"[{name}=" not in usage} == set()
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS}
    done = subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "usage:" in done.stderr
    assert {name for name in names if f"[{name}=" not in done.stderr} == set()
