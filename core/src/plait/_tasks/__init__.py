"""Task graphs: ``plait.Task`` and ``plait.run_tasks`` (see ``docs/orchestration.md``)."""

from ._api import arun_tasks, run_tasks
from ._result import GraphResult, GraphStatus, TaskOutcome, TaskStatus
from ._stream import SyncTasksStream, TasksStream, stream_tasks
from ._task import Task

__all__ = [
    "GraphResult",
    "GraphStatus",
    "SyncTasksStream",
    "Task",
    "TaskOutcome",
    "TaskStatus",
    "TasksStream",
    "arun_tasks",
    "run_tasks",
    "stream_tasks",
]
