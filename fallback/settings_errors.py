"""Settings errors as one line each: which variable, and what it expects.

pydantic-settings reads only the environment variables that name a field, so a misspelt one
(``BACKSTOP_GATING__ANSWER_TRESHOLD``) would be ignored without a word: :func:`check_environment`
refuses every ``BACKSTOP_*`` variable that maps to no setting. :func:`describe` turns a pydantic
``ValidationError`` into one line naming the variable (or the key of the ``BACKSTOP_CONFIG`` file).
"""

from __future__ import annotations

import difflib
import tomllib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

PREFIX = "BACKSTOP_"
DELIMITER = "__"
#: BACKSTOP_* variables that are not settings: read by the CLI, the setup script, tests, benchmarks,
#: or interpolated by compose.yaml on the host (the container gets the BACKSTOP_AUTH__… form).
NOT_SETTINGS = frozenset(
    {
        "BACKSTOP_CONFIG",  # the TOML file itself
        "BACKSTOP_NEW_USER_PASSWORD",  # backstop users add
        "BACKSTOP_VENV",  # scripts/setup.sh
        "BACKSTOP_DATASETS",  # scripts/*
        "BACKSTOP_BENCH_GC_DIR",  # scripts/bench_webhook.py
        "BACKSTOP_SCREENSHOTS",  # tests/web
        "BACKSTOP_SERVICE_TOKENS",  # compose.yaml
        "BACKSTOP_SESSION_SECRET",  # compose.yaml
        "BACKSTOP_GENERATOR_BACKEND",  # compose.yaml
    }
)
NOT_SETTINGS_PREFIXES = ("BACKSTOP_TEST_",)  # tests/conftest.py


class SettingsError(ValueError):
    """A setting that cannot be used; ``str()`` is one line naming the variable and the expected form."""


def _section(annotation: Any) -> type[BaseModel] | None:
    """The section model an annotation holds (``X`` or ``X | None``), else None."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        models = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(models) == 1:
            return _section(models[0])
    return None


def env_name(path: tuple[str, ...]) -> str:
    """``("gating", "answer_threshold")`` -> ``BACKSTOP_GATING__ANSWER_THRESHOLD``."""
    return PREFIX + DELIMITER.join(p.upper() for p in path)


def unknown_variable(name: str, root: type[BaseModel], *, suggest: bool = True) -> str | None:
    """Why ``name`` (a ``BACKSTOP_*`` variable) is not a setting of ``root``; None when it is one."""
    parts = name[len(PREFIX) :].lower().split(DELIMITER)
    model: type[BaseModel] | None = root
    for depth, part in enumerate(parts):
        if model is None:  # a value set as a whole (a list, a secret): no keys below it
            whole = env_name(tuple(parts[:depth]))
            return f"{name} is not a setting: {whole} takes the whole value (JSON for a list)"
        fields = model.model_fields
        if part not in fields:
            nested = _nested_by_mistake(name, root) if suggest else None
            if nested:
                return f"{name} is not a setting (did you mean {nested}? sections nest with __)"
            known = [env_name((*parts[:depth], f)) for f in fields]
            close = difflib.get_close_matches(env_name(tuple(parts[: depth + 1])), known, n=1, cutoff=0.75)
            hint = f"did you mean {close[0]}?" if close else "expected one of " + ", ".join(sorted(known))
            return f"{name} is not a setting ({hint})"
        model = _section(fields[part].annotation)
    return None


def _nested_by_mistake(name: str, root: type[BaseModel]) -> str | None:
    """``BACKSTOP_MINING_SEED`` -> ``BACKSTOP_MINING__SEED``: one ``_`` doubled, if that is a setting."""
    for i, char in enumerate(name):
        if char == "_" and i >= len(PREFIX) and name[i - 1] != "_" and name[i + 1 : i + 2] not in ("_", ""):
            candidate = name[:i] + "_" + name[i:]
            if unknown_variable(candidate, root, suggest=False) is None:
                return candidate
    return None


def check_environment(environ: Mapping[str, str], root: type[BaseModel]) -> None:
    """Refuse the first ``BACKSTOP_*`` variable of ``environ`` that maps to no setting of ``root``.

    Raises:
        SettingsError: Naming the variable and the closest real one.
    """
    for key in sorted(environ):
        name = key.upper()
        if not name.startswith(PREFIX) or name in NOT_SETTINGS or name.startswith(NOT_SETTINGS_PREFIXES):
            continue
        problem = unknown_variable(name, root)
        if problem:
            raise SettingsError(problem)


def _in_file(config: Path | None, path: tuple[str, ...]) -> bool:
    if config is None or not path:
        return False
    try:
        node: Any = tomllib.loads(config.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return False
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def _where(path: tuple[str, ...], environ: Mapping[str, str], config: Path | None) -> str:
    """The variable a value came from: the environment's, else the config file's key, else the env name."""
    name = env_name(path) if path else "settings"
    if path and name not in {k.upper() for k in environ} and _in_file(config, path):
        table = ".".join(path[:-1])
        return f"{config}: [{table}] {path[-1]}" if table else f"{config}: {path[-1]}"
    return name


def describe(
    error: ValidationError, root: type[BaseModel], environ: Mapping[str, str], config: Path | None
) -> SettingsError:
    """One line for every problem of ``error``: ``VARIABLE: what it expects``, joined by ``; ``."""
    lines = []
    for item in error.errors(include_url=False, include_input=False):
        path = tuple(str(p) for p in item["loc"] if isinstance(p, str))  # list indices: the whole list
        message = str(item["msg"]).removeprefix("Value error, ")
        where = _where(path, environ, config)
        if item["type"] == "extra_forbidden":
            unknown = unknown_variable(env_name(path), root) or ""
            message = "not a setting" + (unknown[unknown.index(" (") :] if " (" in unknown else "")
        lines.append(f"{where}: {message}")
    return SettingsError("; ".join(lines))
