"""Render the Sphinx roles of Erlen's docstrings as links in the API reference.

Erlen's docstrings are written in Sphinx style, with cross-references such as
``:meth:`route```, ``:class:`~erlen.wrappers.Response``` or
``:data:`current_user```. MkDocs does not know these roles: left alone they
show as ``:meth:route`` on the pages and in the search index. This Griffe
extension (loaded by mkdocstrings, see ``mkdocs.yml``) rewrites each role in
each docstring of the package before it is rendered:

* The target is looked up the way Sphinx does: in the object the docstring
  belongs to (when it is a class or module), then in each enclosing class and
  module, then as a full dotted path, then under ``erlen``; ``.name`` matches
  the one object whose path ends in ``.name``. ``:meth:`route``` in a
  docstring of ``Erlen`` is ``erlen.app.Erlen.route``.
* A target that names an object becomes an *optional* autorefs reference to
  the object's canonical path (mkdocstrings registers it for every place the
  object is rendered under, such as ``erlen.Erlen``): a link when the object
  is in the reference, inline code when it is not, with no build warning.
  A target that names nothing (``:exc:`ValueError```, a stdlib module) is
  inline code.
* What shows is what Sphinx shows: the target as written, its last part with
  ``~``, the title of ``:role:`title <target>```, and ``()`` after a function
  or method; ``!`` prevents the link.

Two reStructuredText directives are rewritten too, since they would show as
raw text: ``.. versionadded::`` (and ``versionchanged``, ``deprecated``)
becomes a sentence at the end of the description, before the ``:param:``
fields (where it would otherwise join the last parameter's text), and
``.. code-block:: lang`` and a paragraph's ``::`` literal block become fenced
code blocks, and a definition list becomes Markdown's (``def_list``).

The docstrings in ``src/`` stay as they are; only the rendered text changes.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

from griffe import Alias, AliasResolutionError, CyclicAliasError, Extension, GriffeLoader, Module

#: ``:role:`text``` and ``:py:role:`text```; a role name is lowercase letters.
ROLE = re.compile(r":(?:py:)?(?P<role>[a-z]+):`(?P<text>[^`]+)`")
#: Roles whose target is a Python object.
OBJECT_ROLES = frozenset({"meth", "func", "class", "attr", "data", "exc", "mod", "obj", "const"})
#: Roles Sphinx shows with ``()`` after the name (its ``add_function_parentheses``).
CALLABLE_ROLES = frozenset({"meth", "func"})
#: Where an unqualified name is looked for last, as if written in this package.
DEFAULT_PACKAGE = "erlen"

_VERSION_NOTE = re.compile(
    r"^(?P<indent>[ \t]*)\.\. (?P<kind>versionadded|versionchanged|deprecated)::"
    r"[ \t]*(?P<version>\S+)[ \t]*(?P<text>.*)$"
)
_VERSION_WORDS = {
    "versionadded": "Added in version",
    "versionchanged": "Changed in version",
    "deprecated": "Deprecated since version",
}
_CODE_BLOCK = re.compile(r"^(?P<indent>[ \t]*)\.\. code-block::[ \t]*(?P<lang>\S*)[ \t]*$")
#: A paragraph ending in ``::`` introduces a literal block (Python, as in Sphinx).
_LITERAL_INTRO = re.compile(r"^(?P<indent>[ \t]*)(?P<text>(?!\.\. ).*?)[ \t]*::[ \t]*$")
#: The start of a Sphinx field (``:param x:``, ``:returns:``...): the end of the description.
# (A role at the start of a line, ":meth:`x` does...", is not one.)
_FIELD = re.compile(r"^:[a-z]+(?: [^:`]*)?:(?:\s|$)")

_EXPLICIT_TITLE = re.compile(r"^(?P<title>.+?)\s*<(?P<target>[^<>]+)>$", re.S)


def _deref(obj: Any) -> Any:
    # An alias (an imported name) stands for its target; one that leads out
    # of the loaded packages (``from os import path``) stands for nothing.
    if isinstance(obj, Alias):
        try:
            return obj.final_target
        except (AliasResolutionError, CyclicAliasError):
            return None
    return obj


def lookup(collection: Any, path: str) -> Any:
    """The object at dotted ``path`` in Griffe's ``collection``, or ``None``.

    A class's inherited members count, as they do for the attribute lookup
    the path describes.
    """
    first, *rest = path.split(".")
    obj = collection.members.get(first) if first else None
    for part in rest:
        obj = _deref(obj)
        if obj is None:
            return None
        members = obj.all_members if obj.is_class else obj.members
        obj = members.get(part)
    return _deref(obj)


def _scopes(obj: Any) -> Iterator[Any]:
    # The object itself when names resolve inside it, then each enclosing one.
    scope = obj if (obj.is_class or obj.is_module) else obj.parent
    while scope is not None:
        yield scope
        scope = scope.parent


def _all_objects(obj: Any) -> Iterator[Any]:
    yield obj
    for member in obj.members.values():
        if not isinstance(member, Alias):
            yield from _all_objects(member)


def resolve(target: str, context: Any, collection: Any) -> tuple[str, str] | None:
    """Resolve ``target`` as written in the docstring of ``context``.

    Returns the object's canonical path and the path it was found under
    (they differ for an inherited member or an imported name), or ``None``.
    """
    if target.startswith("."):
        # Sphinx's "search everywhere": one object whose path ends in .name.
        name = target[1:]
        for scope in _scopes(context):
            found = lookup(collection, f"{scope.path}.{name}")
            if found is not None:
                return found.path, f"{scope.path}.{name}"
        package = collection.members.get(DEFAULT_PACKAGE)
        if package is None:
            return None
        paths = {o.path for o in _all_objects(package) if o.path.endswith(target)}
        if len(paths) == 1:
            path = paths.pop()
            return path, path
        return None
    candidates = [f"{scope.path}.{target}" for scope in _scopes(context)]
    candidates += [target, f"{DEFAULT_PACKAGE}.{target}"]
    for path in candidates:
        found = lookup(collection, path)
        if found is not None:
            return found.path, path
    return None


def render_role(
    role: str,
    text: str,
    context: Any,
    collection: Any,
    stand_ins: dict[str, str] | None = None,
) -> str:
    """The HTML that replaces ``:role:`text``` in the docstring of ``context``.

    ``stand_ins`` maps a class with no entry of its own to one that shows its
    members (``erlen.scaffold.Scaffold`` to ``erlen.app.Erlen``): a member
    found in the first is linked to where the second shows it.
    """
    title_m = _EXPLICIT_TITLE.match(text)
    if title_m:
        title, target = title_m["title"].strip(), title_m["target"].strip()
    else:
        title, target = None, text.strip()
    link = not target.startswith("!")
    target = target.lstrip("!")
    short = target.startswith("~")
    target = target.lstrip("~")
    if title is None:
        title = target.lstrip(".")
        if short:
            title = title.rsplit(".", 1)[-1]
        if role in CALLABLE_ROLES and not title.endswith(")"):
            title += "()"
    code = f"<code>{html.escape(title)}</code>"
    if not link or role not in OBJECT_ROLES:
        return code
    found = resolve(target, context, collection)
    if found is None:
        return code
    canonical, written = found
    for hidden, shown in (stand_ins or {}).items():
        if written.startswith(hidden + "."):
            written = shown + written[len(hidden) :]
        if canonical.startswith(hidden + "."):
            # NOTE: the hidden class's member is shown under every subclass
            # (Erlen and Blueprint): its canonical path has several URLs and
            # autorefs refuses to pick one; the stand-in's path has one.
            canonical = shown + canonical[len(hidden) :]
    # autorefs tries the identifier, then the slug: the canonical path finds
    # the object under any name it is rendered under; the path as found
    # covers a member shown only through a subclass.
    return (
        f'<autoref identifier="{html.escape(canonical)}" slug="{html.escape(written)}" '
        f"optional>{code}</autoref>"
    )


def _indented_block(lines: list[str], start: int, indent: str) -> tuple[list[str], int]:
    # The lines after ``start`` indented deeper than ``indent`` (blank lines
    # inside included), and the index of the first line after them.
    end = start
    while end < len(lines) and (
        not lines[end].strip()
        or (
            lines[end].startswith(indent)
            and len(lines[end]) - len(lines[end].lstrip()) > len(indent)
        )
    ):
        end += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return lines[start:end], end


def _intro_of_literal_block(lines: list[str], i: int) -> re.Match[str] | None:
    # "text::", a blank line, then lines indented deeper: a literal block.
    m = _LITERAL_INTRO.match(lines[i])
    if m is None or i + 2 >= len(lines) or lines[i + 1].strip():
        return None
    following = lines[i + 2]
    deeper = len(following) - len(following.lstrip()) > len(m["indent"])
    return m if following.strip() and deeper else None


_LIST_ITEM = re.compile(r"^(?:[-*+]|\d+[.)]) ")


def _is_term(lines: list[str], i: int, out: list[str]) -> bool:
    # An unindented line of text followed by an indented one, starting a
    # paragraph: a term and its definition. Not a field, a list item or a
    # directive; and not after a "text::" whose block was not indented (a
    # slip that reST reports, rather than a list).
    line = lines[i]
    if not line.strip() or line[0] in " \t" or i + 1 >= len(lines):
        return False
    following = lines[i + 1]
    if not following.strip() or following[0] not in " \t":
        return False
    if _FIELD.match(line) or _LIST_ITEM.match(line) or line.startswith(".. "):
        return False
    if out and out[-1].strip() and not out[-1].startswith("    "):
        return False  # inside a paragraph
    previous = next((o for o in reversed(out) if o.strip()), "")
    return not previous.rstrip().endswith("::")


def rewrite_directives(docstring: str) -> str:
    """``docstring`` with version notes and code blocks in Markdown."""
    lines = docstring.split("\n")
    out: list[str] = []
    notes: list[str] = []
    i = 0
    while i < len(lines):
        version = _VERSION_NOTE.match(lines[i])
        code = _CODE_BLOCK.match(lines[i])
        if version:
            indent = version["indent"]
            more, i = _indented_block(lines, i + 1, indent)
            text = " ".join([version["text"], *(line.strip() for line in more)]).strip()
            words = f"{_VERSION_WORDS[version['kind']]} {version['version']}"
            note = f"*{words}:* {text}" if text else f"*{words}.*"
            if indent:  # inside a field's text: keep it there
                out.append(indent + note)
            else:
                notes.append(note)
        elif code or (literal := _intro_of_literal_block(lines, i)):
            if code:
                indent, lang = code["indent"], code["lang"]
            else:
                indent, lang = literal["indent"], "python"
                # "Like this::" reads "Like this:"; a lone "::" disappears.
                if literal["text"]:
                    out.append(f"{indent}{literal['text']}:")
                    out.append("")
            body, i = _indented_block(lines, i + 1, indent)
            while body and not body[0].strip():
                body.pop(0)
            depth = min((len(b) - len(b.lstrip()) for b in body if b.strip()), default=0)
            out.append(f"{indent}```{lang}")
            out.extend(indent + b[depth:] if b.strip() else "" for b in body)
            out.append(f"{indent}```")
        elif _is_term(lines, i, out):
            # A reST definition list item: Markdown's def_list syntax.
            term = lines[i]
            body, i = _indented_block(lines, i + 1, "")
            depth = min(len(b) - len(b.lstrip()) for b in body if b.strip())
            body = [b[depth:] if b.strip() else "" for b in body]
            if out and out[-1].strip():
                out.append("")
            out += [term, f":   {body[0]}", *(f"    {b}" if b else "" for b in body[1:]), ""]
        else:
            out.append(lines[i])
            i += 1
    if notes:
        at = next((n for n, line in enumerate(out) if _FIELD.match(line)), len(out))
        while at > 0 and not out[at - 1].strip():
            at -= 1
        out[at:at] = ["", *notes] if at else notes
        after = at + len(notes) + (1 if at else 0)
        if after < len(out) and out[after].strip():
            out.insert(after, "")
    return "\n".join(out).strip("\n")


def rewrite(
    docstring: str, context: Any, collection: Any, stand_ins: dict[str, str] | None = None
) -> str:
    """``docstring`` with each Sphinx role and directive replaced by its rendering."""
    docstring = rewrite_directives(docstring)
    return ROLE.sub(
        lambda m: render_role(m["role"], m["text"], context, collection, stand_ins),
        docstring,
    )


class SphinxRoles(Extension):
    """Rewrite the Sphinx roles of every docstring of a loaded package.

    ``stand_ins`` (an option in ``mkdocs.yml``) is passed to :func:`render_role`.
    """

    def __init__(self, stand_ins: dict[str, str] | None = None) -> None:
        super().__init__()
        self.stand_ins = dict(stand_ins or {})

    def on_package(self, *, pkg: Module, loader: GriffeLoader, **kwargs: Any) -> None:
        """Rewrite once the whole package is loaded, so every target can be found."""
        collection = loader.modules_collection
        for obj in _all_objects(pkg):
            if obj.docstring is not None:
                obj.docstring.value = rewrite(obj.docstring.value, obj, collection, self.stand_ins)
