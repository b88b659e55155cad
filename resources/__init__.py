"""Files shipped with cardiGAN Studio (demo model, app icon); installed as ``cardigan_resources``."""
