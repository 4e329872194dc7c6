"""MCP tool results as plait values.

* ``isError`` → ``MCPToolError`` (the run tells the model the tool failed);
* ``structuredContent`` (and no media) → the dict itself (the run sends it as JSON);
* only text → the text (several blocks joined by blank lines);
* any image, audio or binary resource → a list of parts: ``plait.Text`` for text,
  ``plait.Image`` / ``plait.Audio`` / ``plait.Document`` for media (base64 decoded);
* an embedded text resource → its text; a resource link → its URI and name as text.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import mcp_types as types

from plait import Audio, Document, Image, Text

from ._errors import MCPToolError

__all__ = ["to_plait"]

Part = Text | Image | Audio | Document


def _decode(data: str, what: str) -> bytes:
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MCPToolError(f"the server sent {what} that is not base64") from exc


def _part(block: Any) -> Part:
    """One content block as a plait part."""
    if isinstance(block, types.TextContent):
        return Text(block.text)
    if isinstance(block, types.ImageContent):
        return Image(data=_decode(block.data, "an image"), media_type=block.mime_type)
    if isinstance(block, types.AudioContent):
        return Audio(data=_decode(block.data, "audio"), media_type=block.mime_type)
    if isinstance(block, types.EmbeddedResource):
        res = block.resource
        if isinstance(res, types.TextResourceContents):
            return Text(res.text)
        data = _decode(res.blob, "a resource")
        kind = res.mime_type or ""
        if kind.startswith("image/"):
            return Image(data=data, media_type=kind)
        if kind.startswith("audio/"):
            return Audio(data=data, media_type=kind)
        return Document(data=data, media_type=kind or None, name=str(res.uri))
    if isinstance(block, types.ResourceLink):
        return Text(f"[resource {block.name}: {block.uri}]")
    return Text(f"[unsupported MCP content: {getattr(block, 'type', type(block).__name__)}]")


def _text(parts: list[Part]) -> str:
    return "\n\n".join(p.text for p in parts if isinstance(p, Text))


def to_plait(result: types.CallToolResult, tool: str) -> Any:
    """What the plait tool returns for ``result`` (raises ``MCPToolError`` on ``isError``)."""
    parts = [_part(block) for block in result.content]
    if result.is_error:
        raise MCPToolError(f"MCP tool {tool!r} reported an error: {_text(parts) or 'no detail'}")
    media = any(not isinstance(p, Text) for p in parts)
    if result.structured_content is not None and not media:
        return result.structured_content
    if media:
        return parts
    return _text(parts)
