"""The one exception type the CLI turns into exit code 2 and a one-line reason."""


class CompatError(Exception):
    """The harness could not do its job (bad input, missing env, crashed worker).

    The message is a single line that names what to fix; the CLI prints it without a
    traceback (unless --debug) and exits 2.
    """

    exit_code = 2
