"""The one error type that reaches the user as a message, never as a traceback."""


class CallcueError(Exception):
    """A problem with the user's input or machine: `str()` is the whole message.

    The message says what went wrong, where (file, line, device) and what to do.
    The command line prints it on one line and exits with code 2.
    """

    exit_code = 2
