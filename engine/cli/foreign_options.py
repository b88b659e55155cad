"""Options of NVlabs SPADE's own scripts (train.py, test.py) that a command here names
otherwise, and options of one command here that another lacks, and what to give instead.

A user coming from SPADE types ``--dataroot``, ``--name`` or ``--label_nc`` out of habit;
argparse would answer "unrecognized arguments" (or, worse, that ``--run`` is missing) and
leave them to find the option themselves. :func:`foreign_option_problem` says, in one line,
which option of the command takes the place of the one they typed. An option the command
takes itself is never reported, and one written with underscores where ours has hyphens
(``--niter_decay``) is pointed to its hyphenated spelling.
"""

from __future__ import annotations

import argparse

# SPADE's option -> {command: advice}; "*" is the advice for any other command
FIXED_LABELS = ("not needed: the classes are fixed, 0 background, 1 LV cavity, 2 myocardium, "
                "3 left atrium (SPADE's --label_nc 3 --contain_dontcare_label --no_instance)")
CHECKPOINT_FOLDER = ("give --model the checkpoint folder or its *_net_G.pth file "
                     "(checkpoints/<name>/latest_net_G.pth)")
RUN_FOLDER = "give --run the run's own folder (created if needed), not a name under a checkpoints folder"
PREPARED_DATA = ("give --data a folder cardigan prepare wrote (prepare --source reads SPADE's "
                 "train_img / train_label folders)")
SPADE_OPTIONS: dict[str, dict[str, str]] = {
    "--dataroot": {"train": PREPARED_DATA, "evaluate": PREPARED_DATA, "refine": PREPARED_DATA,
                   "prepare": "give --source the folder (train_img / train_label beside each other)",
                   "synthesize": "give --mask one label map", "cine": "give --ed and --es label maps",
                   "*": "give --masks a folder of label maps"},
    "--name": {"train": RUN_FOLDER, "refine": "give --run-dir the run's own folder", "*": CHECKPOINT_FOLDER},
    "--checkpoints_dir": {"train": RUN_FOLDER, "refine": "give --run-dir the run's own folder",
                          "*": CHECKPOINT_FOLDER},
    "--which_epoch": {"train": "--resume continues from the run's newest state",
                      "*": "give --model that epoch's <epoch>_net_G.pth"},
    "--continue_train": {"*": "use --resume"},
    "--label_nc": {"*": FIXED_LABELS},
    "--contain_dontcare_label": {"*": FIXED_LABELS},
    "--no_instance": {"*": FIXED_LABELS},
    "--dataset_mode": {"*": "not needed: the layout is read from the folder"},
    "--label_dir": {"prepare": "give --source the folder that holds it", "*": PREPARED_DATA},
    "--image_dir": {"prepare": "give --source the folder that holds it", "*": PREPARED_DATA},
    "--batchSize": {"*": "use --batch-size"},
    "--gpu_ids": {"*": "use --device (cuda, cuda:N or cpu)"},
    "--load_size": {"*": "use --size"},
    "--crop_size": {"*": "use --size"},
    "--results_dir": {"*": "use --out"},
    "--num_upsampling_layers": {"*": "use --upsampling"},
    "--print_freq": {"*": "use --log-every"},
    "--display_freq": {"*": "use --sample-every"},
    "--save_latest_freq": {"*": "use --checkpoint-every"},
    "--save_epoch_freq": {"*": "use --checkpoint-every"},
    "--no_vgg_loss": {"*": "not needed: the VGG loss is used only with --vgg-weights"},
}


# options other commands here take -> {command that lacks it: what to give instead}, so that a
# habit formed on one command (evaluate --quick, export --device) is answered on another
SIBLING_OPTIONS: dict[str, dict[str, str]] = {
    "--quick": {
        "train": ("train has no quick mode (evaluate and bench have one); for a short trial run give "
                  "--iters 20 (with --preset lite --size 64 it takes seconds on a CPU)"),
        "refine": "refine has no quick mode (evaluate and bench have one); for a short trial run give --iters 20",
    },
    "--device": {"refine": "refine always trains on the CPU; leave --device out"},
}


def foreign_option_problem(command: str, parser: argparse.ArgumentParser, argv: list[str]) -> str | None:
    """The first option in ``argv`` that ``parser`` (the parser of ``command``) does not take
    but SPADE does, or another command here does (:data:`SIBLING_OPTIONS`), or that ``parser``
    spells with hyphens, as a message saying what to give instead; None when there is none."""
    taken = set(parser._option_string_actions)
    for word in argv:
        name = word.split("=", 1)[0]
        if not name.startswith("--") or name == "--" or taken_by_prefix(name, taken):
            continue
        advice = SPADE_OPTIONS.get(name)
        if advice is not None:
            return f"{name} is NVlabs SPADE's option; {advice.get(command, advice['*'])}"
        sibling = SIBLING_OPTIONS.get(name, {}).get(command)
        if sibling is not None:
            return f"{name}: {sibling}"
        hyphenated = name.replace("_", "-").lower()
        if hyphenated != name and hyphenated in taken:
            return f"{name}: options are written with hyphens here; use {hyphenated}"
    return None


def taken_by_prefix(name: str, taken: set[str]) -> bool:
    """Whether argparse reads ``name`` as one of ``taken``: itself, or an abbreviation of one."""
    return name in taken or any(option.startswith(name) for option in taken)
