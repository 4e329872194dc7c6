"""``plait.tool``: turn a plain function (sync or async) into a ``Tool``.

The JSON schema comes from the signature and the docstring (through pydantic) and is
built once per tool; arguments are validated by the same cached pydantic model on every
call. An optional first parameter ``ctx: plait.Context`` receives the run's context.
Sync functions run in a worker thread under anyio's thread limiter, so a slow tool never
blocks the event loop; at the tool's timeout the thread is abandoned (the run goes on at
once, and what the thread returns later is discarded). Python cannot stop a thread: an
abandoned one runs until its function returns, no longer holding a limiter slot, and on
asyncio the interpreter waits for it at exit (anyio's worker threads are not daemons).
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from types import FunctionType
from typing import Any, get_origin, overload

import anyio.to_thread
from pydantic import BaseModel, ConfigDict, Field, create_model

from ._context import Context
from ._contracts import Tool, Toolset, is_live_toolset

__all__ = ["FunctionTool", "tool"]

_SECTION = re.compile(r"^\s*(Args|Arguments|Parameters|Returns|Raises|Yields|Examples?)\s*:\s*$")
_GOOGLE_ARG = re.compile(r"^\s+(\*{0,2}\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")
_REST_ARG = re.compile(r"^\s*:param\s+(?:[^:]*\s)?(\w+)\s*:\s*(.*)$")


def _parse_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
    """Split a docstring into its description and per-argument descriptions."""
    if not doc:
        return "", {}
    lines = inspect.cleandoc(doc).splitlines()
    description: list[str] = []
    params: dict[str, str] = {}
    section: str | None = None
    last: str | None = None
    for line in lines:
        if (m := _SECTION.match(line)) is not None:
            section, last = m.group(1), None
            continue
        if (m := _REST_ARG.match(line)) is not None:
            last = m.group(1)
            params[last] = m.group(2).strip()
            continue
        if line.lstrip().startswith(":"):
            section = "rest"
            continue
        if section in ("Args", "Arguments", "Parameters"):
            if (m := _GOOGLE_ARG.match(line)) is not None:
                last = m.group(1).lstrip("*")
                params[last] = m.group(2).strip()
            elif last and line.strip():
                params[last] = f"{params[last]} {line.strip()}".strip()
        elif section is None:
            description.append(line)
    return "\n".join(description).strip(), params


def _is_context(annotation: Any, name: str) -> bool:
    if annotation is inspect.Parameter.empty:
        return name == "ctx"
    if annotation is Context or get_origin(annotation) is Context:
        return True
    return isinstance(annotation, str) and annotation.split("[")[0].endswith("Context")


def _signature(fn: Callable[..., Any]) -> inspect.Signature:
    try:
        return inspect.signature(fn, eval_str=True)
    except (NameError, TypeError):  # annotations naming local types: keep them as strings
        return inspect.signature(fn)


class FunctionTool:
    """A ``Tool`` made from a function. Calling the object calls the function unchanged."""

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        name: str | None = None,
        description: str | None = None,
        timeout: float | None = None,
        retries: int | None = None,
        idempotent: bool = False,
        requires_approval: bool = False,
        sequential: bool = False,
    ) -> None:
        self.fn = fn
        self.name = name or fn.__name__
        doc_text, doc_params = _parse_docstring(inspect.getdoc(fn))
        self.description = description if description is not None else doc_text
        self.timeout = timeout
        self.retries = retries
        self.idempotent = idempotent
        self.requires_approval = requires_approval
        self.sequential = sequential
        self.is_async = inspect.iscoroutinefunction(fn)
        self.takes_context, self.args_model = self._build(doc_params)
        schema = self.args_model.model_json_schema()
        schema.pop("title", None)
        self.parameters: Mapping[str, Any] = schema
        self.__doc__ = fn.__doc__

    def _build(self, doc_params: dict[str, str]) -> tuple[bool, type[BaseModel]]:
        params = list(_signature(self.fn).parameters.values())
        takes_context = bool(params) and _is_context(params[0].annotation, params[0].name)
        if takes_context:
            params = params[1:]
        fields: dict[str, Any] = {}
        for p in params:
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                raise TypeError(f"tool {self.name!r}: *args and **kwargs cannot be described")
            annotation = Any if p.annotation is p.empty else p.annotation
            default = ... if p.default is p.empty else p.default
            fields[p.name] = (annotation, Field(default, description=doc_params.get(p.name)))
        model = create_model(
            f"{self.name}_arguments", __config__=ConfigDict(extra="forbid"), **fields
        )
        return takes_context, model

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<tool {self.name!r}>"

    async def call(self, args: Mapping[str, Any], ctx: Context[Any]) -> Any:
        """Validate ``args`` (raises pydantic's ``ValidationError``) and run the function;
        a sync one in a worker thread that is abandoned when the call is cancelled (its
        timeout), so the caller never waits for it."""
        kwargs = dict(self.args_model.model_validate(args))
        prefix = (ctx,) if self.takes_context else ()
        if self.is_async:
            return await self.fn(*prefix, **kwargs)
        return await anyio.to_thread.run_sync(
            functools.partial(self.fn, *prefix, **kwargs), abandon_on_cancel=True
        )


@overload
def tool(fn: Callable[..., Any], /) -> FunctionTool: ...


@overload
def tool(
    fn: None = None,
    /,
    *,
    name: str | None = ...,
    description: str | None = ...,
    timeout: float | None = ...,
    retries: int | None = ...,
    idempotent: bool = ...,
    requires_approval: bool = ...,
    sequential: bool = ...,
) -> Callable[[Callable[..., Any]], FunctionTool]: ...


def tool(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    timeout: float | None = None,
    retries: int | None = None,
    idempotent: bool = False,
    requires_approval: bool = False,
    sequential: bool = False,
) -> FunctionTool | Callable[[Callable[..., Any]], FunctionTool]:
    """Make a ``Tool`` from a function: ``@plait.tool`` or ``@plait.tool(timeout=5)``.

    ``timeout`` seconds (default: ``Limits.tool_timeout``), ``retries`` after a failure
    (default: ``Limits.tool_retries``), ``sequential=True`` makes the tool a barrier that
    runs alone, after the calls before it and before the calls after it.
    """

    def wrap(f: Callable[..., Any]) -> FunctionTool:
        if isinstance(f, FunctionTool):
            return f
        return FunctionTool(
            f,
            name=name,
            description=description,
            timeout=timeout,
            retries=retries,
            idempotent=idempotent,
            requires_approval=requires_approval,
            sequential=sequential,
        )

    return wrap if fn is None else wrap(fn)


def expand_tools(
    items: Iterable[Any],
    adapt: Callable[[Callable[..., Any]], Any] | None = None,
    *,
    keep_live: bool = False,
) -> Iterator[Any]:
    """``items`` with toolsets expanded and plain callables made tools (by ``adapt``,
    default ``tool``); names and anything else pass through for the caller to judge.
    ``keep_live``: live toolsets pass through whole (registration keeps them so, since
    their tools are listed only when a run starts)."""
    make = adapt or tool
    for item in items:
        if type(item) is FunctionType:  # the common case first: Tool is a slow Protocol check
            yield make(item)
        elif isinstance(item, str | FunctionTool | Tool):
            yield item
        elif isinstance(item, Toolset):
            if keep_live and is_live_toolset(item):
                yield item
            else:
                yield from item.tools()
        elif callable(item):
            yield make(item)
        else:
            yield item
