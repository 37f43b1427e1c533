"""A tiny inventory library used to demonstrate docpipe."""

from .store import Item, Store

__all__ = ["Item", "Store"]
