"""Errors the CLI turns into one clear line and a non-zero exit, never a traceback."""


class UserError(Exception):
    """Bad input from the user (config, file, flag, unreachable service): message is shown as is."""

    exit_code = 2
