"""One exception type for user mistakes, so every entry point can turn it into a clear message."""


class EngineError(Exception):
    """A problem the user can fix (bad path, bad flag, mismatched fingerprint...).

    The CLI prints its message and exits with status 2; it never shows a traceback.
    """
