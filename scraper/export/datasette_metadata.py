"""Datasette metadata of the store: table and column descriptions, and canned queries.

The canned queries answer the common questions about an archive: the latest articles per
source, stories carried by several sources, sources that need a look (their last run in
``source_runs`` failed, was blocked or was partial), articles without a date, and a
ranked full-text search.  Each is planned to stay fast on 100,000 articles: rankings use
indexes or columns stored before the body, so the texts are read only for rows shown.
``escape_fts`` in the search query is a SQL function that datasette itself provides.
"""

from __future__ import annotations

from typing import Any

__all__ = ["QUERIES", "TABLES", "metadata"]

TABLES: dict[str, tuple[str, dict[str, str]]] = {
    "articles": (
        "One row per outlet's article: the extracted text and metadata, and the store's own"
        " stamps (UTC).  Copies of one text across outlets share a story.",
        {
            "id": "Row id; also the rowid of its articles_fts entry.",
            "url": "Canonical URL (every URL it was seen under is in article_urls).",
            "source": "The configured source (outlet) it was fetched for.",
            "title": "Headline, without the site name.",
            "published": "Publication date as the page gave it: ISO 8601 with its offset,"
            " or empty when the page shows none.",
            "date_precision": "'datetime', or 'date' when the page gave only a day.",
            "body": "Plain text; paragraphs separated by a blank line, list items as '- '.",
            "authors": "JSON list of author names.",
            "language": "Language code, from the markup or guessed from the text.",
            "description": "The page's own summary (meta description, og:description).",
            "image": "Lead image URL.",
            "modified": "Last modification date the page states.",
            "body_hash": "sha256 of the normalized body: equal for exact copies.",
            "first_seen": "When the store first saved it (UTC).",
            "last_fetched": "When it was last fetched or confirmed unchanged (UTC).",
            "last_changed": "When its text last really changed (UTC).",
            "version": "1, plus one per real edit (earlier texts in article_versions).",
            "etag": "ETag of the last response, for conditional requests.",
            "last_modified": "Last-Modified of the last response, for conditional requests.",
            "hint_title": "The title a listing, feed or sitemap gave.",
            "hint_published": "The date a listing, feed or sitemap gave.",
            "extraction_errors": "JSON object: per field, why it is missing or fell back.",
            "provenance": "JSON object: per field, the rule or signal that produced it.",
            "duplicate_count": "Copies merged into this row by release 0.1 (before stories).",
            "change_seq": "Grows with every new or edited article: the export cursor.",
            "story_id": "The story (stories.id) this copy belongs to.",
        },
    ),
    "article_urls": (
        "Every URL an article was seen under, per source: canonical, listed, redirected.",
        {
            "source": "The source that saw the URL.",
            "url": "The URL.",
            "article_id": "The article (articles.id).",
            "first_seen": "When the URL was first seen (UTC).",
        },
    ),
    "article_versions": (
        "Earlier texts of articles that changed: one row per replaced version.",
        {
            "id": "Row id.",
            "article_id": "The article (articles.id).",
            "version": "The version number this text had.",
            "title": "Its title then.",
            "published": "Its publication date then.",
            "body": "Its text then.",
            "body_hash": "sha256 of that normalized text.",
            "fetched_at": "When this text was last seen (UTC).",
        },
    ),
    "stories": (
        "Copies of one text, within or across outlets; each copy is its own article row.",
        {
            "id": "Story id (articles.story_id).",
            "representative": "The article id of its earliest published member.",
            "members": "How many article rows it holds.",
            "first_seen": "When its first member was stored (UTC).",
            "last_seen": "When a member was last fetched (UTC).",
        },
    ),
    "runs": (
        "Each run of the pipeline (scraper run, or one scheduled crawl).",
        {
            "id": "Run id.",
            "started_at": "Start (UTC).",
            "finished_at": "End (UTC); empty while it runs.",
            "status": "running, ok, partial, failed, interrupted, aborted or skipped.",
            "sources": "JSON list of the sources it crawled.",
            "pid": "Process id, to tell a dead run from a running one.",
            "counts": "JSON object: article outcomes (new, updated, failed...), summed.",
            "error": "Why it failed or was aborted.",
        },
    ),
    "source_runs": (
        "Each source's part of each run, and scheduler events: what source health reads.",
        {
            "id": "Row id (grows with time).",
            "run_id": "The run (runs.id); empty for a scheduler event that started none.",
            "source": "The source.",
            "started_at": "Start (UTC).",
            "finished_at": "End (UTC).",
            "status": "ok, partial, failed, interrupted or blocked for a crawl; error,"
            " missed or skipped for a scheduler event.",
            "counts": "JSON object: its article outcomes.",
            "new": "New articles stored.",
            "failed": "Article pages that failed.",
            "found": "Article links discovered.",
            "pages_ok": "Listing, feed and sitemap pages fetched.",
            "pages_failed": "Listing, feed and sitemap pages that failed.",
            "error": "The first error, or why the event happened.",
        },
    ),
    "fetches": (
        "Each fetch of any URL, after retries, with its outcome.",
        {
            "id": "Row id.",
            "run_id": "The run (runs.id).",
            "source": "The source it was fetched for.",
            "url": "The URL requested.",
            "kind": "listing, article, robots, feed or sitemap.",
            "outcome": "ok, not-modified, error, skipped, rejected or suspect.",
            "status": "HTTP status.",
            "final_url": "The URL after redirects.",
            "error_kind": "A short name of the failure (timeout, status, robots, address...).",
            "error": "The failure's message.",
            "elapsed_ms": "Time taken, every attempt included (ms).",
            "bytes": "Size of the body after decompression.",
            "attempts": "Tries made.",
            "fetched_at": "When (UTC).",
        },
    ),
    "articles_fts": (
        "Full-text index (SQLite FTS5) over the title and body of articles; its rowid is"
        " articles.id.  The 'search' query ranks matches with bm25().",
        {"title": "Indexed title.", "body": "Indexed body."},
    ),
    "consumers": (
        "Named consumers of exports and the last change number each took completely.",
        {
            "name": "Consumer name (scraper export --consumer NAME).",
            "checkpoint": "The last articles.change_seq it took completely.",
            "updated_at": "When its checkpoint last moved (UTC).",
        },
    ),
    "robots": (
        "The last robots.txt read from each site, used while the live one is unreachable.",
        {
            "url": "The robots.txt URL.",
            "content": "Its content.",
            "fetched_at": "When it was read (UTC).",
        },
    ),
    "shingle_bands": (
        "MinHash band keys of each body, to find near-identical copies without a scan.",
        {"band_key": "A band key.", "article_id": "The article (articles.id)."},
    ),
}

# How the tables open in the browser: newest first, with facets worth clicking.
TABLE_OPTIONS: dict[str, dict[str, Any]] = {
    "articles": {
        "sort_desc": "first_seen",
        "facets": ["source"],  # through its index; a facet on a later column reads the texts
        "label_column": "title",
    },
    "article_versions": {"sort_desc": "id"},
    "stories": {"sort_desc": "id"},
    "runs": {"sort_desc": "id", "facets": ["status"]},
    "source_runs": {"sort_desc": "id", "facets": ["status", "source"]},
    "fetches": {"sort_desc": "id", "facets": ["outcome", "kind", "error_kind"]},
    "shingle_bands": {"hidden": True},
}

QUERIES: dict[str, dict[str, Any]] = {
    "latest_per_source": {
        "title": "Latest articles per source",
        "description": "Each source's most recently stored articles, newest first;"
        " per_source: how many (10 when blank).",
        # Found through the index on source (ids grow as articles are stored), so the
        # rows, which hold the texts, are read only for the articles shown.
        "sql": """
select a.source, a.id, a.title, a.published, a.url, a.first_seen
from (select distinct source from articles) as s
join articles a on a.id in (
  select b.id from articles b where b.source = s.source order by b.id desc
  limit cast(coalesce(nullif(trim(:per_source), ''), 10) as integer)
)
order by a.source, a.id desc""",
    },
    "stories_across_sources": {
        "title": "Stories carried by several sources",
        "description": "Stories whose copies come from at least two sources, newest"
        " first, with the earliest published copy's title.",
        "sql": """
select s.id as story, count(distinct a.source) as sources,
  group_concat(distinct a.source) as outlets, s.members,
  r.title, r.url, r.published, s.first_seen, s.last_seen
from stories s
join articles a on a.story_id = s.id
join articles r on r.id = s.representative
where s.members >= 2
group by s.id
having count(distinct a.source) >= 2
order by s.first_seen desc, s.id desc""",
    },
    "sources_needing_a_look": {
        "title": "Sources that need a look",
        "description": "Sources whose last run failed, was blocked or was partial (or whose"
        " scheduled job raised an error), failing ones first.",
        "sql": """
with last as (
  select source, max(id) as id from source_runs
  where status in ('ok', 'partial', 'failed', 'error', 'interrupted', 'blocked')
  group by source
)
select r.source, r.status, r.error, r.started_at, r.finished_at,
  r.new, r.failed, r.found, r.pages_ok, r.pages_failed,
  (select max(started_at) from source_runs o
    where o.source = r.source and o.status in ('ok', 'partial')) as last_success,
  (select count(*) from source_runs f
    where f.source = r.source and f.status in ('failed', 'error')
    and f.id > coalesce((select max(id) from source_runs o
      where o.source = r.source and o.status in ('ok', 'partial')), 0)) as failures_in_a_row
from last join source_runs r on r.id = last.id
where r.status in ('failed', 'error', 'blocked', 'partial')
order by r.status = 'partial', r.status = 'blocked', r.source""",
    },
    "articles_without_date": {
        "title": "Articles without a date",
        "description": "Articles whose page gave no publication date, newest first seen"
        " first, with what the listing said and why extraction found none.",
        "sql": """
select id, source, title, url, first_seen, hint_published,
  case when json_valid(extraction_errors)
    then json_extract(extraction_errors, '$.published') end as why
from articles
where published is null
order by first_seen desc, id desc""",
    },
    "search": {
        "title": "Search",
        "description": "Full-text search of titles and bodies, best match first (bm25):"
        ' q holds words (all must match) or a "quoted phrase"; source narrows it to one'
        " source.",
        "hide_sql": True,
        "sql": """
select a.id, a.source, a.title, a.published, a.url,
  snippet(articles_fts, -1, '[', ']', '…', 16) as snippet,
  -bm25(articles_fts) as rank
from (select escape_fts(:q) as terms where trim(:q) != '') as query
join articles_fts on articles_fts match query.terms
join articles a on a.id = articles_fts.rowid
where trim(:source) = '' or a.source = trim(:source)
order by bm25(articles_fts)
limit 100""",
    },
}


def metadata(database: str) -> dict[str, Any]:
    """Datasette metadata for a store served under the name ``database``."""
    tables = {
        name: {"description": description, "columns": columns, **TABLE_OPTIONS.get(name, {})}
        for name, (description, columns) in TABLES.items()
    }
    queries = {name: {**query, "sql": query["sql"].strip()} for name, query in QUERIES.items()}
    return {
        "title": "newsscraper",
        "description": "Articles, stories, runs and fetches of a newsscraper store (read-only).",
        "databases": {
            database: {
                "description": "A newsscraper store: one row per outlet's article in"
                " 'articles'; the canned queries below answer the common questions.",
                "tables": tables,
                "queries": queries,
            }
        },
    }
