"""cardiGAN Studio desktop app (PySide6), built on the headless ``engine`` package."""
