"""Commands that read the database: ``articles``, ``search``, ``stories``, ``history``,
``export``, ``consumers``, ``feed`` and ``serve``."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from .base import EXPORT_FORMATS, OneLineUsageError, cli, db_option, iso_date, require_db
from .render import history, json_lines, search_rows, story_rows, table

T = TypeVar("T")


@cli.command("articles")
@db_option
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--source", help="Only this source.")
@click.option(
    "--since",
    callback=lambda ctx, param, value: iso_date(value),
    help="Only articles published on or after this ISO 8601 date or time.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def articles_command(
    db: str, limit: int, source: str | None, since: datetime | None, as_json: bool
) -> None:
    """List the most recent stored articles."""
    from ..store import open_store

    require_db(db)
    with open_store(db) as store:
        dicts = [row.to_dict() for row in store.articles(limit=limit, source=source, since=since)]
    click.echo(
        json_lines(dicts) if as_json else table(dicts, ["published", "source", "title", "url"])
    )


def filter_options(func: Any) -> Any:
    """The options that choose articles, shared by search, export and feed."""
    for option in reversed(
        [
            click.option("--source", help="Only this source."),
            click.option("--language", help="Only articles in this language (e.g. en)."),
            click.option("--since", callback=date_option, help="Published on or after (ISO 8601)."),
            click.option("--until", callback=date_option, help="Published before (ISO 8601)."),
            click.option("--representatives", is_flag=True, help="Only one article per story."),
        ]
    ):
        func = option(func)
    return func


def date_option(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    return iso_date(value, f"--{param.name}")


def article_filter(**given: Any) -> Any:
    from ..store import ArticleFilter

    keys = ("source", "language", "since", "until", "query", "representatives")
    return ArticleFilter(**{key: given[key] for key in keys if key in given})


@cli.command("search")
@db_option
@click.argument("query")
@filter_options
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def search_command(db: str, query: str, limit: int, as_json: bool, **filters: Any) -> None:
    """Full-text search over titles and bodies, best match first, with snippets."""
    from ..store import open_store

    require_db(db)
    with open_store(db) as store:
        hits = _usage(lambda: store.search(query, where=article_filter(**filters), limit=limit))
    if as_json:
        click.echo(json_lines({"rank": h.rank, "snippet": h.snippet, **h.article.to_dict()}
                              for h in hits))  # fmt: skip
    else:
        click.echo(table(search_rows(hits), ["rank", "published", "source", "title", "snippet"]))


@cli.command("stories")
@db_option
@click.option("--min-sources", type=click.IntRange(min=1), default=2, show_default=True)
@click.option("--since", callback=date_option, help="First seen on or after (ISO 8601).")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def stories_command(
    db: str, min_sources: int, since: datetime | None, limit: int, as_json: bool
) -> None:
    """Stories carried by several sources, newest first, with their outlets and titles."""
    from ..store import open_store

    require_db(db)
    with open_store(db) as store:
        views = store.stories(min_sources=min_sources, since=since, limit=limit)
    if as_json:
        rows = ({"story": v.story.id, "first_seen": v.story.first_seen.isoformat(),
                 "members": [m.to_dict() for m in v.members]} for v in views)  # fmt: skip
        click.echo(json_lines(rows))
    else:
        click.echo(table(story_rows(views), ["story", "first seen", "outlets", "titles"]))


@cli.command("history")
@db_option
@click.argument("url")
def history_command(db: str, url: str) -> None:
    """An article's versions, oldest first, with a word diff between each two."""
    from ..store import open_store
    from ..urls import normalize_url

    require_db(db)
    with open_store(db) as store:
        article = store.article_by_url(url) or store.article_by_url(_normal(normalize_url, url))
        if article is None:
            raise click.BadParameter(f"no stored article has the URL {url}", param_hint="URL")
        click.echo(history(article, store.versions(article.id)))


@cli.command("export")
@db_option
@click.option(
    "--format", "fmt", type=click.Choice(EXPORT_FORMATS), default="jsonl", show_default=True
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file (replaced when complete) instead of stdout.")  # fmt: skip
@click.option("--consumer", help="Start after this consumer's checkpoint; move it when done.")
@click.option("--cursor-file", type=click.Path(dir_okay=False, path_type=Path),
              help="Keep the checkpoint in this file instead.")  # fmt: skip
@click.option("--after", type=click.IntRange(min=0), help="Start after this change_seq.")
@click.option("--query", help="Only articles matching this full-text search.")
@filter_options
@click.option("--limit", type=click.IntRange(min=1), help="At most this many articles.")
def export_command(db: str, fmt: str, output: Path | None, consumer: str | None,
                   cursor_file: Path | None, after: int | None, limit: int | None,
                   **filters: Any) -> None:  # fmt: skip
    """Write articles new or edited since a checkpoint (JSON lines, CSV or Parquet)."""
    from ..export import ExportOptions, export
    from ..store import open_store

    require_db(db)
    options = _usage(lambda: ExportOptions(fmt=fmt, after=after, where=article_filter(**filters),
                     limit=limit, consumer=consumer, cursor_file=cursor_file))  # fmt: skip
    with open_store(db) as store:
        last = _usage(lambda: export(store, options, sys.stdout, output))
    click.echo(f"checkpoint: {last}", err=True)


@cli.command("consumers")
@db_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def consumers_command(db: str, as_json: bool) -> None:
    """Named export consumers: their checkpoint and how many changes they have not taken."""
    from ..store import open_store

    require_db(db)
    with open_store(db) as store:
        rows = [vars(c) | {"updated_at": c.updated_at} for c in store.consumers()]
    click.echo(json_lines(rows) if as_json else table(rows, ["name", "checkpoint", "lag",
                                                                   "updated_at"]))  # fmt: skip


@cli.command("feed")
@db_option
@click.option("--rss", is_flag=True, help="RSS 2.0 instead of Atom 1.0.")
@click.option("--source", help="Only this source.")
@click.option("--query", help="The best matches of this full-text search.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--title", help="The feed's title (default: from the source or query).")
@click.option("--self-url", default="http://localhost/feed", show_default=True,
              help="Where the feed will be served (its id).")  # fmt: skip
def feed_command(db: str, rss: bool, source: str | None, query: str | None, limit: int,
                 title: str | None, self_url: str) -> None:  # fmt: skip
    """Write an Atom (or RSS) feed of the latest articles: any site becomes a feed."""
    from ..clock import utc_now
    from ..export.feed import FeedOptions, feed_articles, write_feed
    from ..store import open_store

    require_db(db)
    name = title or f"{source or 'All sources'}{f': {query}' if query else ''}"
    options = FeedOptions(title=name, self_url=self_url, updated=utc_now(),
                          fmt="rss" if rss else "atom")  # fmt: skip
    with open_store(db) as store:
        articles = _usage(lambda: feed_articles(store, source=source, query=query, limit=limit))
        write_feed(articles, sys.stdout, options)
    sys.stdout.flush()


@cli.command("serve")
@db_option
@click.option("--port", type=click.IntRange(0, 65535), default=8001, show_default=True)
def serve_command(db: str, port: int) -> None:
    """Browse the database in datasette, read-only, on 127.0.0.1 (needs the serve extra)."""
    from ..export.datasette import serve

    require_db(db)
    with serve(db, port) as server:
        click.echo(f"datasette at {server.database_url} (Ctrl-C to stop)", err=True)
        server.wait()


def _usage(call: Callable[[], T]) -> T:
    """Run ``call``; a ``ValueError`` (a bad query or option value) is a one-line usage error."""
    try:
        return call()
    except ValueError as exc:
        raise OneLineUsageError(str(exc)) from None


def _normal(normalize: Callable[[str], str], url: str) -> str:
    try:
        return normalize(url)
    except ValueError:
        return url
