"""Language-model providers behind one protocol: ``offline`` rules and ``anthropic`` Claude."""

from .base import Draft, Provider

__all__ = ["Draft", "Provider"]
