"""The errors of plait-mcp.

::

    plait.PlaitError
    └── MCPError                 anything plait-mcp raises about a server
        ├── MCPServerError       the server could not be used (the session is restarted)
        │   ├── MCPServerUnavailable   it did not start, or the connection failed
        │   ├── MCPServerCrashed       it went away in the middle of a call
        │   └── MCPServerTimeout       it did not answer in time
        └── MCPToolError         the tool answered with an error (``isError``)

A tool call that raises one becomes a tool error the model is told about (the run goes
on); listing the tools of a server that cannot be reached stops the run before it starts.
"""

from __future__ import annotations

from plait import PlaitError

__all__ = [
    "MCPError",
    "MCPServerCrashed",
    "MCPServerError",
    "MCPServerTimeout",
    "MCPServerUnavailable",
    "MCPToolError",
]


class MCPError(PlaitError):
    """Something went wrong with an MCP server or one of its tools."""


class MCPServerError(MCPError):
    """The server could not be used; its session is stopped and the next use restarts it."""


class MCPServerUnavailable(MCPServerError):
    """The server did not start (or its URL did not answer) within its startup timeout."""


class MCPServerCrashed(MCPServerError):
    """The server went away (its process ended, the connection dropped) during a request."""


class MCPServerTimeout(MCPServerError):
    """The server did not answer within the timeout; it is restarted on the next use."""


class MCPToolError(MCPError):
    """The tool ran and reported an error (an MCP result with ``isError``)."""
