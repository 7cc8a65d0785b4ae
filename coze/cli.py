"""``backstop coze plugin-spec``: write the Coze plugin spec to a file, refusing a URL Coze cannot call."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

err = Console(stderr=True, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add ``coze`` to the root CLI."""
    coze_app = typer.Typer(help="Coze integration files.", no_args_is_help=True)
    app.add_typer(coze_app, name="coze")

    @coze_app.command("plugin-spec")
    def plugin_spec(
        out: Path = typer.Option(None, "--out", help="Write here (default: print to stdout)."),  # noqa: B008
        server_url: str = typer.Option(
            None, help="Public https URL of this service (default: server.public_url)."
        ),
        allow_insecure: bool = typer.Option(False, help="Write it even when Coze could not reach the URL."),
    ) -> None:
        """The OpenAPI 3.0 spec to import into Coze as a plugin ("import from file")."""
        from coze.plugin_spec import coze_plugin_spec, server_problems
        from fallback.settings import load_settings

        url = server_url or load_settings().server.public_url or ""
        problems = server_problems(url)
        for p in problems:
            err.print(f"[yellow]warning:[/] {p}")
        if problems and not allow_insecure:
            err.print("[red]not written:[/] pass --server-url https://your-domain "
                      "(or --allow-insecure for a test)")
            raise typer.Exit(2)
        text = json.dumps(coze_plugin_spec(url), ensure_ascii=False, indent=2)
        if out is None:
            typer.echo(text)
            return
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n", encoding="utf-8")
        err.print(f"wrote {out}")
