"""Pairs for a blind read: a real image and a model's image of the same mask, side by side.

A reader is shown each pair and says which side is real, how sure, and what gave the other
away; the why says what to fix next. Exactly half the pairs have the real image on the left,
in a shuffled order, so a reader who always picks one side scores half. The key is written
beside the folder (``OUT.key.json``), not in it, so the folder can be handed over alone.
Pairs come from the evaluation split (``test``, else ``valid``); real images stay wherever
the dataset is: keep the folder out of the repository.

    python benchmarks/blind_pairs.py --data data/camus256 --model demo --out /tmp/read --count 12 --seed 11
    python benchmarks/blind_pairs.py --score /tmp/read.key.json --picks LRRLLRLRRLLR
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.errors import CardiganError  # noqa: E402
from engine.evaluation.evaluate import choose_split, load_split_with_fans, synthesize_all  # noqa: E402
from engine.progress import never_stop, no_progress  # noqa: E402

GAP = 8  # white pixels between the two frames


def choose(available: int, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(indices of ``count`` distinct pairs, True where the real image goes left): half of
    them left (the odd one out drawn at random), in a random order."""
    if not 1 <= count <= available:
        raise ValueError(f"count must be between 1 and {available} (the split's pairs)")
    rng = np.random.default_rng(seed)
    indices = rng.choice(available, size=count, replace=False)
    left = np.zeros(count, dtype=bool)
    left[:count // 2 + (count % 2) * int(rng.integers(2))] = True
    return indices, rng.permutation(left)


def side_by_side(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """(H, 2W + GAP) uint8: two (H, W) uint8 frames with a white bar between them."""
    bar = np.full((left.shape[0], GAP), 255, dtype=np.uint8)
    return np.concatenate([left, bar, right], axis=1)


def binomial_tail(correct: int, total: int) -> float:
    """Chance of ``correct`` or more right answers out of ``total`` by guessing (p = 0.5)."""
    return sum(math.comb(total, k) for k in range(correct, total + 1)) / 2 ** total


def make(data: Path, model: str, out: Path, count: int, seed: int, device: str, split: str | None) -> Path:
    from PIL import Image

    from engine.synthesizer import Synthesizer

    split, _ = choose_split(data, split)
    images, labels, stems, fans = load_split_with_fans(data, split, None)
    indices, real_left = choose(len(images), count, seed)
    synth = Synthesizer(model, device=device)
    fakes = synthesize_all(synth, labels[indices], seed, "synthesizing", no_progress, never_stop,
                           fans=[fans[i] for i in indices])
    out.mkdir(parents=True, exist_ok=True)
    key = {"model": model, "data": str(data), "split": split, "seed": seed, "pairs": {}}
    digits = max(2, len(str(count - 1)))  # names sort in reading order, however many pairs
    for n, (i, fake, left) in enumerate(zip(indices, fakes, real_left)):
        real = images[i]
        name = f"pair_{n:0{digits}d}"
        Image.fromarray(side_by_side(real, fake) if left else side_by_side(fake, real)).save(out / f"{name}.png")
        key["pairs"][name] = {"real": "left" if left else "right", "stem": stems[i]}
    key_path = out.with_name(out.name + ".key.json")
    key_path.write_text(json.dumps(key, indent=1))
    return key_path


def pair_number(name: str) -> int:
    """The number of a pair's name (``pair_07`` -> 7): the order the pairs are read in."""
    return int(name.rpartition("_")[2])


def score(key_path: Path, picks: str) -> tuple[int, int, list[str]]:
    """(right answers, pairs, names of the pairs read wrong) for picks such as ``LRRL``, one
    letter per pair in the order of the pair names."""
    pairs = json.loads(key_path.read_text())["pairs"]
    names = sorted(pairs, key=pair_number)
    picks = picks.strip().upper()
    if len(picks) != len(names) or set(picks) - {"L", "R"}:
        raise ValueError(f"give one letter L or R per pair: {len(names)} letters")
    wrong = [name for name, pick in zip(names, picks) if pairs[name]["real"][0].upper() != pick]
    return len(names) - len(wrong), len(names), wrong


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, help="prepared dataset folder")
    parser.add_argument("--model", default="demo", help="a model (default: demo)")
    parser.add_argument("--out", type=Path, help="folder for the pair images (the key goes beside it)")
    parser.add_argument("--count", type=int, default=12, help="pairs (default 12)")
    parser.add_argument("--seed", type=int, default=0, help="which pairs, which sides, and the model's seeds")
    parser.add_argument("--split", default=None, help="evaluation split (default: test, else valid)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--score", type=Path, metavar="KEY", help="score a read against its key instead")
    parser.add_argument("--picks", help="with --score: the reader's picks, one L or R per pair")
    args = parser.parse_args(argv)
    try:
        if args.score:
            if not args.picks:
                parser.error("--score needs --picks")
            right, total, wrong = score(args.score, args.picks)
            print(f"{right} of {total} right (by guessing, as many or more: {binomial_tail(right, total):.2g}); "
                  f"read wrong: {', '.join(wrong) or 'none'}")
            return 0
        if args.data is None or args.out is None:
            parser.error("--data and --out are needed to make pairs")
        key = make(args.data, args.model, args.out, args.count, args.seed, args.device, args.split)
    except (CardiganError, ValueError, OSError) as error:
        print(f"blind_pairs: {error}", file=sys.stderr)
        return 1
    print(f"wrote {args.count} pairs to {args.out}; the key is {key}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
