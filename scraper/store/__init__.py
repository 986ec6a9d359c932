"""The store: the only package that speaks SQL."""

from .sqlite import FetchRecord, Known, SaveResult, Store, body_hash

__all__ = ["FetchRecord", "Known", "SaveResult", "Store", "body_hash"]
