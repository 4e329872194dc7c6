"""Teams: agents (and teams) run in parallel (``a & b``) or in sequence (``a | b``)."""

from ._forms import SyncTeamStream, TeamHandle, TeamIterator, TeamStream
from ._result import TeamResult
from ._team import Team, join

__all__ = [
    "SyncTeamStream",
    "Team",
    "TeamHandle",
    "TeamIterator",
    "TeamResult",
    "TeamStream",
    "join",
]
