"""The type aliases of ``flask.typing``, for code that annotates with them.

They are deliberately loose (mostly :data:`typing.Any` based): they exist so
that ``from flask.typing import ResponseReturnValue`` works at run time, not
to re-type Erlen.

.. versionadded:: 0.1
"""

from __future__ import annotations

import typing as t

ResponseValue = t.Any
HeaderName = str
HeaderValue = str | list[str] | tuple[str, ...]
HeadersValue = t.Any
ResponseReturnValue = t.Any
ResponseClass = t.TypeVar("ResponseClass", bound=t.Any)
AppOrBlueprintKey = str | None
AfterRequestCallable = t.Callable[..., t.Any]
BeforeFirstRequestCallable = t.Callable[..., t.Any]
BeforeRequestCallable = t.Callable[..., t.Any]
ShellContextProcessorCallable = t.Callable[[], dict[str, t.Any]]
TeardownCallable = t.Callable[..., t.Any]
TemplateContextProcessorCallable = t.Callable[..., dict[str, t.Any]]
TemplateFilterCallable = t.Callable[..., t.Any]
TemplateGlobalCallable = t.Callable[..., t.Any]
TemplateTestCallable = t.Callable[..., bool]
URLDefaultCallable = t.Callable[[str, dict[str, t.Any]], None]
URLValuePreprocessorCallable = t.Callable[[str | None, dict[str, t.Any] | None], None]
ErrorHandlerCallable = t.Callable[..., t.Any]
RouteCallable = t.Callable[..., t.Any]
