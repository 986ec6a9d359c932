"""newsscraper: configured news sources to a deduplicated SQLite store."""
