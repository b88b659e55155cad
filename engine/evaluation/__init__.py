"""Measuring models: a U-Net segmenter as the instrument, Dice, and the evaluation protocol.

``metrics``    Dice per class
``segmenter``  a compact, seeded 2D U-Net (Dice + cross-entropy)
``fid``        optional FID / KID from user-supplied Inception weights
``evaluate``   mask fidelity and downstream utility of a model on a prepared dataset
"""

# the most two-sample classifiers `cardigan evaluate --two-sample-seeds` averages (here, not in
# ``evaluate``, so the command line can read it without importing torch)
MAX_TWO_SAMPLE_SEEDS = 20
