"""plait-openai: OpenAI Chat Completions and Responses providers for plait.

Importing this package is cheap: the HTTP implementation loads when a model is first made.
"""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
