"""User-facing errors.

Every problem a user can cause (a bad file, a wrong option, a missing device) is raised as a
:class:`CardiganError` whose message is one plain line. The CLI prints that line and exits
non-zero; the app shows it in a dialog or the status bar. Anything else is a bug.
"""


class CardiganError(Exception):
    """A problem the user can fix; ``str(error)`` is a complete one-line explanation."""


class MaskError(CardiganError):
    """A label map that cannot be used (bad values, wrong size, unreadable file)."""


class ModelFileError(CardiganError):
    """A model file that is missing, damaged, unsafe or of an unknown kind."""


class DeviceError(CardiganError):
    """A compute device that was asked for but is not available."""


class DataError(CardiganError):
    """A dataset or source folder that cannot be read or written."""
