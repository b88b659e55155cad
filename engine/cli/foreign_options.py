"""Options of NVlabs SPADE's own scripts (train.py, test.py) that a command here names
otherwise, and options of one command here that another lacks, and what to give instead.

A user coming from SPADE types ``--dataroot``, ``--name`` or ``--label_nc`` out of habit;
argparse would answer "unrecognized arguments" (or, worse, that ``--run`` is missing) and
leave them to find the option themselves. :func:`foreign_option_problem` says, in one line,
which option of the command takes the place of the one they typed, or why none is needed, or,
where the command has none, which commands take it. An option the command
takes itself is never reported, and one written with underscores where ours has hyphens
(``--niter_decay``) is pointed to its hyphenated spelling.
"""

from __future__ import annotations

import argparse
import re

# SPADE's option -> {command: advice}; "*" is the advice for any other command. An advice that
# starts "use --x" or "give --x" is given only to a command that takes --x; another command is
# told which commands do (OPTION_COMMANDS)
FIXED_LABELS = ("not needed: the classes are fixed, 0 background, 1 LV cavity, 2 myocardium, "
                "3 left atrium (SPADE's --label_nc 3 --contain_dontcare_label --no_instance)")
CHECKPOINT_FOLDER = ("give --model the checkpoint folder or its *_net_G.pth file "
                     "(checkpoints/<name>/latest_net_G.pth)")
RUN_FOLDER = "give --run the run's own folder (created if needed), not a name under a checkpoints folder"
PREPARED_DATA = ("give --data a folder cardigan prepare wrote (prepare --source reads SPADE's "
                 "train_img / train_label folders)")
MODEL_SIZE = ("not needed: the model draws at its own size (cardigan info says which) and a mask of "
              "another size is resampled to it")
LOAD_SIZE = {"synthesize": MODEL_SIZE, "info": MODEL_SIZE, "tune": MODEL_SIZE, "refine": MODEL_SIZE,
             "evaluate": MODEL_SIZE + " (evaluate's --size is its segmenters' resolution)", "*": "use --size"}
SQUARE = "not needed: cardigan prepare resizes every image to a square of its --size"
SAMPLES = "not needed: train writes its sample previews as PNGs in the run's samples folder"
ONE_MASK = "give --mask one label map"
LOOP_MASKS = "give --ed and --es label maps"
MASK_FOLDER = "give --masks a folder of label maps"
LABEL_FOLDER = {"train": PREPARED_DATA, "evaluate": PREPARED_DATA, "refine": PREPARED_DATA,
                "prepare": "give --source the folder that holds it", "synthesize": ONE_MASK,
                "cine": LOOP_MASKS, "export": MASK_FOLDER, "*": PREPARED_DATA}
SPADE_OPTIONS: dict[str, dict[str, str]] = {
    "--dataroot": {"train": PREPARED_DATA, "evaluate": PREPARED_DATA, "refine": PREPARED_DATA,
                   "prepare": "give --source the folder (train_img / train_label beside each other)",
                   "synthesize": ONE_MASK, "cine": LOOP_MASKS,
                   "tune": "give the prepared dataset to the fit that measures it (--fit-tone DATA, ...)",
                   "phantom": "give --out the folder the dataset is written to",
                   "*": MASK_FOLDER},
    "--name": {"train": RUN_FOLDER, "refine": "give --run-dir the run's own folder", "*": CHECKPOINT_FOLDER},
    "--checkpoints_dir": {"train": RUN_FOLDER, "refine": "give --run-dir the run's own folder",
                          "*": CHECKPOINT_FOLDER},
    "--which_epoch": {"train": "--resume continues from the run's newest state",
                      "*": "give --model that epoch's <epoch>_net_G.pth"},
    "--continue_train": {"refine": "not needed: the same refine command resumes from the state in --run-dir",
                         "*": "use --resume"},
    "--label_nc": {"*": FIXED_LABELS},
    "--contain_dontcare_label": {"*": FIXED_LABELS},
    "--no_instance": {"*": FIXED_LABELS},
    "--instance_dir": {"*": FIXED_LABELS},
    "--semantic_nc": {"*": FIXED_LABELS},
    "--dataset_mode": {"*": "not needed: the layout is read from the folder"},
    "--label_dir": LABEL_FOLDER,
    "--image_dir": {**LABEL_FOLDER, "synthesize": "not needed: only the label map is read",
                    "cine": "not needed: only the label maps are read",
                    "export": "not needed: the images are drawn from the label maps alone"},
    "--batchSize": {"*": "use --batch-size"},
    "--gpu_ids": {"refine": "refine always trains on the CPU; leave it out",
                  "*": "use --device (cuda, cuda:N or cpu)"},
    "--nThreads": {"*": "use --workers"},
    "--load_size": LOAD_SIZE,
    "--crop_size": LOAD_SIZE,
    "--preprocess_mode": {"*": SQUARE},
    "--aspect_ratio": {"*": SQUARE},
    "--no_flip": {"*": "not needed: pairs are never flipped (a flip would swap the septum and the lateral wall)"},
    "--results_dir": {"train": "not needed: train writes its samples and model into --run", "*": "use --out"},
    "--how_many": {"export": "not needed: every label map in --masks is drawn (or give --random N patients)",
                   "evaluate": "not needed: every pair of --split is scored",
                   "*": "cardigan export --masks DIR draws one image for every label map in DIR"},
    "--phase": {"evaluate": "use --split",
                "*": "prepare writes train, valid and test; train reads train, evaluate --split picks the other"},
    "--num_upsampling_layers": {"*": "use --upsampling"},
    "--norm_G": {"train": ("use --norm-g syncbatch, batch or instance (SPADE's 'spectral' prefix is "
                           "--spectral-g, on by default)"),
                 "*": "not needed: a checkpoint's is read from the opt.txt beside it"},
    "--netG": {"train": "not needed: the generator is SPADE's (--modulation clade: a faster variant)",
               "*": "not needed: the generator is SPADE's"},
    "--netD": {"*": "use --discriminator patch (SPADE's multiscale) or oasis"},
    "--gan_mode": {"*": "not needed: the hinge loss (SPADE's default) is used"},
    "--no_ganFeat_loss": {"*": "use --lambda-feat 0"},
    "--tf_log": {"*": "use --tensorboard"},
    "--print_freq": {"*": "use --log-every"},
    "--display_freq": {"*": "use --sample-every"},
    "--display_winsize": {"*": SAMPLES},
    "--no_html": {"*": SAMPLES},
    "--save_latest_freq": {"*": "use --checkpoint-every"},
    "--save_epoch_freq": {"*": "use --checkpoint-every"},
    "--no_vgg_loss": {"*": "not needed: the VGG loss is used only with train --vgg-weights"},
}

# the options SPADE_OPTIONS advises -> the commands that take them (a test checks this against
# the parsers), for the answer to a command that takes none
OPTION_COMMANDS: dict[str, tuple[str, ...]] = {
    "--batch-size": ("train", "refine"),
    "--resume": ("train",),
    "--size": ("train", "prepare", "phantom", "export", "cine", "evaluate"),
    "--out": ("synthesize", "tune", "refine", "prepare", "phantom", "export", "cine", "evaluate", "bench"),
    "--upsampling": ("train",),
    "--log-every": ("train",),
    "--sample-every": ("train",),
    "--checkpoint-every": ("train",),
    "--device": ("synthesize", "train", "export", "cine", "evaluate", "bench"),
    "--workers": ("train", "prepare", "phantom"),
    "--tensorboard": ("train",),
    "--lambda-feat": ("train",),
    "--discriminator": ("train",),
    "--split": ("evaluate",),
    "--data": ("train", "refine", "evaluate"),
    "--masks": ("export",),
    "--model": ("synthesize", "info", "tune", "refine", "export", "cine", "evaluate"),
    "--run": ("train",),
    "--source": ("prepare",),
}
ADVISED_OPTION = re.compile(r"(?:use|give) (--[a-z][a-z-]*)")


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
            return f"{name} is NVlabs SPADE's option; {spade_advice(command, advice, taken)}"
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


def spade_advice(command: str, advice: dict[str, str], taken: set[str]) -> str:
    """What ``command`` (whose options are ``taken``) says to give in place of a SPADE option:
    its own advice, or for an option it does not take, which commands take it."""
    text = advice.get(command, advice["*"])
    advised = ADVISED_OPTION.match(text)
    if advised is None or advised.group(1) in taken:
        return text
    option = advised.group(1)
    owners = OPTION_COMMANDS.get(option, ())
    where = f" ({option} is for {' and '.join(', '.join(owners).rsplit(', ', 1))})" if owners else ""
    return f"{command} takes no such option{where}"
