"""User-facing errors: one line, saying what went wrong and what to do."""


class PracticaError(Exception):
    """An error caused by the user's input or environment (not a bug).

    The CLI prints its message on one line and exits with status 2; tracebacks are kept
    for real bugs.
    """


class ConfigError(PracticaError):
    """A bad configuration value, key or file."""


class DataError(PracticaError):
    """A data set is missing, corrupt or in an unexpected format."""


class TrainingDiverged(PracticaError):
    """The training loss became NaN or infinite."""


class Terminated(KeyboardInterrupt):
    """SIGTERM (a session ending, ``kill``, a job scheduler): handled like Ctrl-C, so the
    run writes its summary with status ``interrupted`` and its wall time so far."""


def describe(exc: BaseException) -> str:
    """``Type: first line of the message`` — a library exception, fit for a one-line error."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
