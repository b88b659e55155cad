"""SPADE GAN training: presets, losses, the loop, run folders, resume and several GPUs.

``config``      TrainConfig and the preset table
``losses``      hinge GAN, feature matching, VGG19 perceptual, KL
``events``      typed events the loop reports (the CLI and the app render them)
``state``       full training state for resume (atomic writes, tensors only)
``run_folder``  the run folder: config.json, stats.jsonl, samples/, checkpoints/, model
``networks``    building G, D and E from a config
``loop``        ``train(config, run_dir, callbacks)``
``distributed`` torchrun / DistributedDataParallel set-up
"""
