"""The settings of one command: the one tree of ``fallback.settings``, a bad setting ending it in one line."""

from __future__ import annotations

import typer

from fallback.settings import Settings, load_settings
from fallback.settings_errors import SettingsError

SETTINGS_ERROR_EXIT = 2


def settings(**overrides: object) -> Settings:
    """Load the settings tree (environment, ``BACKSTOP_CONFIG``, then ``overrides``).

    A settings error is printed as one line on stderr (``error: VARIABLE: expected …``) and the command
    exits with status 2: no traceback.
    """
    try:
        return load_settings(**overrides)
    except SettingsError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(SETTINGS_ERROR_EXIT) from None
