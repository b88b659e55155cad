"""Dialogs: new mask, keyboard shortcuts, and the standard prompts."""
