"""Training from the app: the wizard, the child process running ``cardigan train``, and the
progress panel with loss curves and sample previews."""

from .progress_panel import TrainingPanel
from .wizard import TrainingRequest, TrainingWizard

__all__ = ["TrainingPanel", "TrainingRequest", "TrainingWizard"]
