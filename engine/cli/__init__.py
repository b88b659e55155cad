"""The headless command line (``cardigan <command>``); ``python -m engine`` runs it too."""
