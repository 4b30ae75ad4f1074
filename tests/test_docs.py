"""The documentation stays true: every sample runs, every link resolves.

How a fenced code block in ``docs/**/*.md`` is treated (the rule is also
written down for authors in ``docs/contributing.md``):

* A block with a ``title="some/path"`` option is a *file*: it is written to
  that path in the page's scratch folder before the next block runs, so
  later samples can import it, render it as a template or serve it.
* A ``python`` block without a title is *executed*, top to bottom, in one
  module namespace per page (so a page reads like one script), with the
  scratch folder as the working directory and first on ``sys.path``.
  Samples check themselves with ``assert``.
* A ``pycon`` block is run as a doctest in the same namespace.
* Blocks in a language listed in :data:`SHOWN_ONLY` (shell commands,
  configuration for other tools, output) are shown, not run. Any other
  language fails the test, so a misspelt ``Python`` block cannot slip
  through unexecuted.

The tutorial pages share one scratch folder and namespace and run in the
order of the site's navigation, since each builds on the one before.

Links between pages, to headings and to the API reference are checked
offline against the Markdown sources; ``mkdocs build --strict`` (run by
``dev.py test`` and ``make docs``) checks them once more on the built site.
"""

from __future__ import annotations

import doctest
import html.parser
import importlib
import importlib.util
import os
import re
import sys
import types
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pytest

import erlen

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
MKDOCS_YML = ROOT / "mkdocs.yml"

#: Languages of blocks that are displayed but never run.
SHOWN_ONLY = frozenset(
    {
        "sh",
        "console",
        "text",
        "ini",
        "toml",
        "yaml",
        "json",
        "http",
        "html",
        "jinja",
        "html+jinja",
        "dockerfile",
        "nginx",
        "procfile",
        "csv",
    }
)
EXECUTED = frozenset({"python", "pycon"})

_FENCE_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>.*)$")
_TITLE = re.compile(r"""title=(?:"([^"]*)"|'([^']*)')""")


@dataclass
class Block:
    """One fenced code block of a page."""

    page: Path
    line: int  # 1-based line of the first line of code
    lang: str
    title: str | None
    code: str

    @property
    def where(self) -> str:
        page = self.page.relative_to(ROOT) if ROOT in self.page.parents else self.page
        return f"{page}:{self.line}"


def _pages() -> list[Path]:
    return sorted(p for p in DOCS.rglob("*.md") if "screenshots" not in p.parts)


def parse_blocks(page: Path) -> list[Block]:
    """Return the fenced code blocks of ``page`` with their languages and titles."""
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        m = _FENCE_OPEN.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence, info = m["indent"], m["fence"], m["info"].strip()
        lang = info.split()[0].lstrip(".").lower() if info else ""
        title_m = _TITLE.search(info)
        title = (title_m[1] or title_m[2]) if title_m else None
        close = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        body: list[str] = []
        j = i + 1
        while j < len(lines) and not close.match(lines[j]):
            # Blocks nested in admonitions are indented; drop that indent.
            body.append(lines[j][len(indent) :] if lines[j].startswith(indent) else lines[j])
            j += 1
        assert j < len(lines), f"{page.relative_to(ROOT)}:{i + 1}: unclosed code fence"
        blocks.append(Block(page, i + 2, lang, title, "\n".join(body) + "\n"))
        i = j + 1
    return blocks


def _prose_lines(page: Path) -> list[tuple[int, str]]:
    """The page's lines outside code blocks, with inline code removed."""
    out: list[tuple[int, str]] = []
    in_fence: re.Pattern[str] | None = None
    for n, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
        if in_fence is not None:
            if in_fence.match(line):
                in_fence = None
            continue
        m = _FENCE_OPEN.match(line)
        if m:
            fence = m["fence"]
            in_fence = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
            continue
        out.append((n, re.sub(r"`[^`]*`", "", line)))
    return out


def _nav_order(folder: str) -> list[Path]:
    # The order of the pages of `folder` in mkdocs.yml's nav, read as text so
    # that the samples run without the docs toolchain installed.
    found = re.findall(
        rf"^\s*-\s*(?:[^:\n]+:\s*)?({re.escape(folder)}/[\w./-]+\.md)\s*$",
        MKDOCS_YML.read_text(),
        re.M,
    )
    return [DOCS / p for p in found]


def _groups() -> list[tuple[str, list[Path]]]:
    tutorial = _nav_order("tutorial")
    groups: list[tuple[str, list[Path]]] = [("tutorial", tutorial)] if tutorial else []
    for page in _pages():
        if page not in tutorial:
            groups.append((str(page.relative_to(DOCS)), [page]))
    return groups


def _run_block(block: Block, module: types.ModuleType, folder: Path) -> None:
    if block.title is not None:
        target = (folder / block.title).resolve()
        assert folder.resolve() in target.parents, (
            f"{block.where}: title {block.title!r} leaves the scratch folder"
        )
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(block.code, encoding="utf-8")
        # A rewritten module must be re-imported by the next sample, not
        # served from the import cache: forget every module of the folder.
        _forget_modules(folder)
        importlib.invalidate_caches()
        return
    if block.lang == "python":
        # Leading newlines make tracebacks point at the line in the Markdown file.
        code = compile("\n" * (block.line - 1) + block.code, str(block.page), "exec")
        exec(code, module.__dict__)
        return
    if block.lang == "pycon":
        parser = doctest.DocTestParser()
        test = parser.get_doctest(
            block.code, module.__dict__, block.where, str(block.page), block.line - 1
        )
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        failures: list[str] = []
        runner.run(test, out=failures.append, clear_globs=False)
        assert runner.failures == 0, "".join(failures)
        # doctest ran on a copy of the namespace; later blocks see what it defined.
        module.__dict__.update(test.globs)
        return
    assert block.lang in SHOWN_ONLY, (
        f"{block.where}: code block language {block.lang!r} is neither run ({sorted(EXECUTED)}) "
        f"nor shown-only ({sorted(SHOWN_ONLY)}); see docs/contributing.md"
    )


def _scrub_erlen_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # Samples that call app.run() or read ERLEN_* settings must not inherit the developer's shell.
    for key in [k for k in os.environ if k.startswith("ERLEN_")]:
        monkeypatch.delenv(key)


def test_samples_do_not_see_the_shells_erlen_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ERLEN_APP", "somewhere")
    monkeypatch.setenv("ERLENX", "kept")
    _scrub_erlen_env(monkeypatch)
    assert "ERLEN_APP" not in os.environ and os.environ["ERLENX"] == "kept"


def _forget_modules(folder: Path) -> None:
    prefix = str(folder.resolve())
    for mod_name, mod in list(sys.modules.items()):
        if mod_name != "docs_sample" and (getattr(mod, "__file__", None) or "").startswith(prefix):
            del sys.modules[mod_name]


def _check_tutorial_builds_the_example(folder: Path) -> None:
    # The tutorial's last version of each file of the flaskr package is the example's file.
    example = ROOT / "examples" / "flaskr" / "flaskr"

    def sources(package: Path) -> list[Path]:
        # Not what running the app leaves behind (an instance folder, bytecode).
        return sorted(
            p.relative_to(package)
            for p in package.rglob("*")
            if p.is_file() and not {"__pycache__", "instance"} & set(p.relative_to(package).parts)
        )

    wanted, built = sources(example), sources(folder / "flaskr")
    assert built == wanted, "the tutorial writes other files than examples/flaskr/flaskr/ holds"
    differ = [
        str(p) for p in wanted if (folder / "flaskr" / p).read_bytes() != (example / p).read_bytes()
    ]
    assert differ == [], (
        f"tutorial and examples/flaskr differ in {differ}: run python3 docs/sync_tutorial.py"
    )


@pytest.mark.parametrize("name, pages", _groups(), ids=[g[0] for g in _groups()])
def test_samples_run(
    name: str, pages: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every sample of a page (or of the whole tutorial) runs and its asserts hold."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    _scrub_erlen_env(monkeypatch)
    # The samples live in a real module so Erlen(__name__) finds its root
    # folder (templates/, static/) in the scratch folder.
    module = types.ModuleType("docs_sample")
    module.__file__ = str(tmp_path / "docs_sample.py")
    monkeypatch.setitem(sys.modules, "docs_sample", module)
    # Modules that other tests imported must not stand in for the files the
    # samples write: hide the examples' packages (flaskr, ... are on pytest's
    # pythonpath for their own tests) and any module named like a written file.
    examples = str((ROOT / "examples").resolve())
    written = {
        Path(b.title).parts[0].removesuffix(".py")
        for p in pages
        for b in parse_blocks(p)
        if b.title
    }
    for mod_name, mod in list(sys.modules.items()):
        from_examples = (getattr(mod, "__file__", None) or "").startswith(examples)
        if from_examples or mod_name.partition(".")[0] in written:
            monkeypatch.delitem(sys.modules, mod_name)
    # Samples rewrite modules within one second; stale bytecode must not be reused.
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    try:
        for page in pages:
            for block in parse_blocks(page):
                _run_block(block, module, tmp_path)
        if name == "tutorial":
            _check_tutorial_builds_the_example(tmp_path)
    finally:
        # Forget the modules the samples wrote, so the next page's samples
        # import their own files of the same name.
        _forget_modules(tmp_path)


def test_every_page_has_a_sample_rule() -> None:
    """No block is skipped by accident: each is run, written, or shown-only."""
    bad = [
        b.where
        for page in _pages()
        for b in parse_blocks(page)
        if b.title is None and b.lang not in EXECUTED | SHOWN_ONLY
    ]
    assert bad == []


def test_block_parser_handles_titles_nesting_and_languages(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    page.write_text(
        "Text\n\n```python\nx = 1\n```\n\n!!! note\n    ```pycon\n    >>> 1\n    1\n    ```\n\n"
        '````html+jinja title="templates/a.html"\n```\n{{ x }}\n````\n'
    )
    blocks = parse_blocks(page)
    assert [(b.lang, b.title, b.line) for b in blocks] == [
        ("python", None, 4),
        ("pycon", None, 9),
        ("html+jinja", "templates/a.html", 14),
    ]
    assert blocks[1].code == ">>> 1\n1\n"
    assert blocks[2].code == "```\n{{ x }}\n"


def test_failing_sample_fails_with_its_location(tmp_path: Path) -> None:
    page = tmp_path / "bad.md"
    page.write_text(
        "# Bad\n\n```python\nassert 1 == 2, 'wrong'\n```\n\n```pycon\n>>> 1 + 1\n3\n```\n\n"
        "```pycon\n>>> x = 40\n>>> x + 2\n42\n```\n"
    )
    module = types.ModuleType("docs_bad")
    python_block, pycon_block, good_pycon = parse_blocks(page)
    _run_block(good_pycon, module, tmp_path)
    assert module.x == 40  # doctests share the page's namespace
    with pytest.raises(AssertionError, match="wrong") as info:
        _run_block(python_block, module, tmp_path)
    assert info.traceback[-1].lineno + 1 == 4  # pytest's line numbers are 0-based
    with pytest.raises(AssertionError, match=r"Expected:\s+3\s+Got:\s+2"):
        _run_block(pycon_block, module, tmp_path)
    with pytest.raises(AssertionError, match="'pyhton' is neither run"):
        _run_block(Block(page, 1, "pyhton", None, "x = 1\n"), module, tmp_path)
    with pytest.raises(AssertionError, match="leaves the scratch folder"):
        _run_block(Block(page, 1, "text", "../escape.txt", "x\n"), module, tmp_path)


# -- links and anchors ------------------------------------------------------

_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*$")
_ATTR_ID = re.compile(r"\s*\{[^}]*#([\w.:-]+)[^}]*\}\s*$")
_DIRECTIVE = re.compile(r"^:::\s+([\w.]+)\s*$", re.M)


def slugify(text: str) -> str:
    """The heading id Python-Markdown's ``toc`` extension gives ``text``."""
    text = re.sub(r"`([^`]*)`", r"\1", text)  # inline code keeps its text
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # so do links
    text = re.sub(r"<[^>]+>", "", text)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def anchors(page: Path) -> set[str]:
    """Every id a link may target on ``page``: headings, ``{#id}``, API objects."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    for _, line in _prose_lines_keep_code(page):
        m = _HEADING.match(line)
        if m:
            heading = m[2]
            attr = _ATTR_ID.search(heading)
            if attr:
                found.add(attr[1])
                continue
            slug = slugify(heading)
            # toc numbers repeated headings: x, x_1, x_2 ...
            n = seen.get(slug, 0)
            seen[slug] = n + 1
            found.add(slug if n == 0 else f"{slug}_{n}")
        for attr_id in re.findall(r"\{[^}]*#([\w.:-]+)[^}]*\}", line):
            found.add(attr_id)
    found.update(_DIRECTIVE.findall(page.read_text(encoding="utf-8")))
    return found


def _prose_lines_keep_code(page: Path) -> list[tuple[int, str]]:
    # Headings may contain inline code; keep it so slugify sees the words.
    text_lines = page.read_text(encoding="utf-8").splitlines()
    return [(n, text_lines[n - 1]) for n, _ in _prose_lines(page)]


def _import_path(path: str) -> object:
    """The object at dotted ``path``: the longest importable module, then attributes."""
    parts = path.split(".")
    for n in range(len(parts), 0, -1):
        try:
            obj: object = importlib.import_module(".".join(parts[:n]))
        except ImportError:
            continue
        for part in parts[n:]:
            obj = getattr(obj, part)  # AttributeError: no such object
        return obj
    raise ImportError(path)


def _api_member_exists(anchor: str, directives: set[str]) -> bool:
    # mkdocstrings gives members ids like erlen.Erlen.route under the object's
    # directive, and erlen.views.View under a module's (erlen.views).
    for directive in directives:
        if anchor.startswith(directive + "."):
            try:
                _import_path(anchor)
            except (ImportError, AttributeError):
                return False
            return True
    return False


def _check_links(page: Path) -> list[str]:
    errors: list[str] = []
    for n, line in _prose_lines(page):
        for target in _LINK.findall(line):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
                continue
            path_part, _, anchor = target.partition("#")
            dest = (page.parent / path_part).resolve() if path_part else page
            where = f"{page.relative_to(ROOT)}:{n}"
            if DOCS.resolve() not in dest.parents:
                errors.append(f"{where}: {target} points outside docs/")
                continue
            if not dest.is_file():
                errors.append(f"{where}: {target}: no file {dest.relative_to(DOCS.resolve())}")
                continue
            if anchor and dest.suffix == ".md":
                ids = anchors(dest)
                directives = set(_DIRECTIVE.findall(dest.read_text(encoding="utf-8")))
                if anchor not in ids and not _api_member_exists(anchor, directives):
                    errors.append(f"{where}: {target}: no anchor #{anchor} in {dest.name}")
    return errors


@pytest.mark.parametrize("page", _pages(), ids=[str(p.relative_to(DOCS)) for p in _pages()])
def test_internal_links_resolve(page: Path) -> None:
    """Every relative link names an existing page or image, and an existing anchor."""
    assert _check_links(page) == []


def test_link_checker_reports_missing_pages_and_anchors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    monkeypatch.setattr(sys.modules[__name__], "DOCS", docs)
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    (docs / "a.md").write_text(
        "# A page\n\n## Second `part`\n\n## Custom {#own-id}\n\n## Again\n\n## Again\n\n"
        "[ok](b.md#b-title) [ok](#second-part) [ok](#own-id) [ext](https://example.com/x)\n"
        "[gone](c.md) [bad](b.md#nope) [out](../x.md) `[code](nowhere.md)`\n"
        "[ok](#again_1) [ok](api.md#erlen.Erlen) [ok](api.md#erlen.Erlen.route) [bad](api.md#erlen.Erlen.nope)\n"
    )
    (docs / "api.md").write_text("# API\n\n::: erlen.Erlen\n")
    (docs / "b.md").write_text("# B title\n\n```python\n# [not a link](z.md)\n```\n")
    assert _check_links(docs / "a.md") == [
        "docs/a.md:12: c.md: no file c.md",
        "docs/a.md:12: b.md#nope: no anchor #nope in b.md",
        "docs/a.md:12: ../x.md points outside docs/",
        "docs/a.md:13: api.md#erlen.Erlen.nope: no anchor #erlen.Erlen.nope in api.md",
    ]
    assert _check_links(docs / "b.md") == []


def test_slugify_matches_toc() -> None:
    assert slugify("Routing and URL building") == "routing-and-url-building"
    assert slugify("The `erlen` command") == "the-erlen-command"
    assert slugify("Sessions & flash: signed cookies") == "sessions-flash-signed-cookies"
    assert slugify("[Links](x.md) in headings") == "links-in-headings"


# -- the API reference ------------------------------------------------------


def _api_directives() -> set[str]:
    return set(_DIRECTIVE.findall((DOCS / "api.md").read_text(encoding="utf-8")))


def _is_proxy(obj: object) -> bool:
    from erlen.globals import LocalProxy

    # type() is not forwarded by the proxy, unlike isinstance() and __class__.
    return LocalProxy in type(obj).__mro__


@pytest.mark.parametrize("name", erlen.__all__)
def test_public_name_in_api_reference_with_docstring(name: str) -> None:
    """Each name of ``erlen.__all__`` has an entry in docs/api.md, and a docstring to show there."""
    directives = _api_directives()
    assert f"erlen.{name}" in directives, f"docs/api.md has no '::: erlen.{name}' entry"
    obj = getattr(erlen, name)
    if _is_proxy(obj):
        # A proxy's docstring is its class's; the reference documents what it
        # stands for in the prose right after its entry instead.
        text = (DOCS / "api.md").read_text(encoding="utf-8")
        after = text.split(f"::: erlen.{name}\n", 1)[1]
        after = re.sub(r"^(\s{4}.*\n|\s*\n)*", "", after)  # skip the entry's options
        paragraph = after.split("\n\n", 1)[0].strip()
        assert paragraph and not paragraph.startswith((":::", "#")), (
            f"no description after ::: erlen.{name}"
        )
    else:
        assert (obj.__doc__ or "").strip(), f"erlen.{name} has no docstring"


# -- every public module is in the reference ---------------------------------

SRC = ROOT / "src" / "erlen"

#: Modules left out of the API reference although no part of their name
#: starts with "_", each with the reason. Every other module of src/erlen is
#: public: it needs a ``::: erlen.module`` entry on a page of docs/api/ (or
#: in docs/api.md), and the test below fails until it has one.
NOT_IN_REFERENCE = {
    # The request path's steps and drivers; Erlen's methods of the same
    # names (documented with Erlen) are the API.
    "erlen.dispatch": "internal",
    # The base class of Erlen and Blueprint; both pages show its methods.
    "erlen.scaffold": "internal",
    # How the erlen command finds the app; erlen.cli re-exports its public
    # names (locate_app, prepare_import, NoAppException), documented there.
    "erlen.cli_discovery": "internal",
    # The server adapters; app.wsgi_app and app.asgi_app are the entry points.
    "erlen.wsgi": "internal",
    "erlen.asgi": "internal",
    # The context variable; its proxies (current_app, g, request, session)
    # are documented with the erlen package.
    "erlen.globals": "internal",
    # The session cookie's token format, behind SecureCookieSessionInterface.
    "erlen.signing": "internal",
    # The trie behind Map.match; it has no public names.
    "erlen.routing.matcher": "internal",
}


def public_modules(src: Path = SRC) -> list[str]:
    """The dotted names of the modules of the package at ``src`` that are public.

    A module is public unless a part of its name starts with ``_`` or it is
    in :data:`NOT_IN_REFERENCE`. Files are read from disk, not imported, so a
    module that fails to import is still counted.
    """
    found = []
    for path in sorted(src.rglob("*.py")):
        parts = list(path.relative_to(src.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        package_dirs = path.relative_to(src).parents
        if any(not (src / d / "__init__.py").is_file() for d in package_dirs):
            continue  # a data folder (templates, static files), not a package
        name = ".".join(parts)
        if not any(p.startswith("_") for p in parts) and name not in NOT_IN_REFERENCE:
            found.append(name)
    return found


def _reference_entries() -> set[str]:
    pages = [DOCS / "api.md", *sorted((DOCS / "api").glob("*.md"))]
    entries = {name for page in pages for name in _DIRECTIVE.findall(page.read_text("utf-8"))}
    # docs/api.md documents the erlen package itself name by name (checked
    # by test_public_name_in_api_reference_with_docstring).
    return entries | {"erlen"}


def test_every_public_module_is_in_the_api_reference() -> None:
    """A new module shows up in the reference, or this fails saying where to add it."""
    entries = _reference_entries()
    missing = [name for name in public_modules() if name not in entries]
    assert missing == [], (
        f"no '::: <module>' entry in docs/api.md or docs/api/*.md for {missing}: add one to "
        "the page of its group (or, for a module with no public API, a line to "
        "NOT_IN_REFERENCE in tests/test_docs.py with the reason)"
    )


def test_api_pages_are_listed_on_the_erlen_page() -> None:
    """docs/api.md ends with a table of the reference's pages; a new page needs a row."""
    table = (DOCS / "api.md").read_text("utf-8").split("## Other modules", 1)[1]
    pages = sorted(p.name for p in (DOCS / "api").glob("*.md"))
    assert pages and [p for p in pages if f"](api/{p})" not in table] == []


def test_modules_left_out_of_the_reference_exist() -> None:
    entries = _reference_entries()
    for name in NOT_IN_REFERENCE:
        relative = Path(*name.split(".")[1:])
        assert (SRC / relative).with_suffix(".py").is_file() or (
            SRC / relative / "__init__.py"
        ).is_file(), f"{name} is listed in NOT_IN_REFERENCE but does not exist"
        assert name not in entries, f"{name} is in the reference and in NOT_IN_REFERENCE"


def test_public_modules_rule(tmp_path: Path) -> None:
    src = tmp_path / "erlen"
    for rel in [
        "__init__.py",
        "__main__.py",
        "_utils.py",
        "app.py",
        "dispatch.py",
        "routing/__init__.py",
        "routing/rules.py",
        "routing/matcher.py",
        "_impl/__init__.py",
        "_impl/thing.py",
        "debug/_private.py",
        "debug/__init__.py",
        "debug/static/not_a_module.py",
    ]:
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_text("")
    assert sorted(public_modules(src)) == [
        "erlen",
        "erlen.app",
        "erlen.debug",
        "erlen.routing",
        "erlen.routing.rules",
    ]


# -- Sphinx roles in docstrings ----------------------------------------------


def _roles_extension() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(
        "docs_griffe_sphinx_roles", DOCS / "hooks" / "griffe_sphinx_roles.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sphinx_roles_become_optional_links_to_the_objects(tmp_path: Path) -> None:
    griffe = pytest.importorskip("griffe")
    roles = _roles_extension()
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text(
        '"""The package."""\nfrom .mod import Cls as Cls\n\n__all__ = ["Cls"]\n'
    )
    (tmp_path / "pkg" / "mod.py").write_text(
        '''"""The module: :class:`Cls`."""


class Base:
    def route(self):
        """Inherited."""


class Cls(Base):
    """:meth:`route` :meth:`~pkg.mod.Cls.own` :meth:`!own` :class:`Missing`
    :exc:`ValueError` :func:`the helper <helper>` :attr:`.value` :envvar:`HOME`
    """

    #: A value.
    value = 1

    def own(self):
        """Own."""


def helper():
    """:data:`pkg.Cls`"""
'''
    )
    package = griffe.load(
        "pkg",
        search_paths=[str(tmp_path)],
        extensions=griffe.load_extensions(roles.SphinxRoles),
    )

    def ref(identifier: str, slug: str, title: str) -> str:
        return f'<autoref identifier="{identifier}" slug="{slug}" optional><code>{title}</code></autoref>'

    mod = package["mod"]
    assert mod.docstring.value == f"The module: {ref('pkg.mod.Cls', 'pkg.mod.Cls', 'Cls')}."
    # Names resolve inside the class first (an inherited method is found
    # there and linked under its own path); ~ shows the last part; ! and
    # unknown names are inline code; a function gets "()".
    assert mod["Cls"].docstring.value == (
        f"{ref('pkg.mod.Base.route', 'pkg.mod.Cls.route', 'route()')} "
        f"{ref('pkg.mod.Cls.own', 'pkg.mod.Cls.own', 'own()')} "
        "<code>own()</code> <code>Missing</code>\n<code>ValueError</code> "
        f"{ref('pkg.mod.helper', 'pkg.mod.helper', 'the helper')} "
        f"{ref('pkg.mod.Cls.value', 'pkg.mod.Cls.value', 'value')} <code>HOME</code>"
    )
    # An imported name links to the object it stands for.
    assert mod["helper"].docstring.value == ref("pkg.mod.Cls", "pkg.Cls", "pkg.Cls")
    # A class with no entry of its own links its members where a stand-in
    # shows them, by the stand-in's path: the hidden class's own path has a
    # URL under every subclass that shows the member, and autorefs would
    # not pick one (a strict-build warning per link).
    stand_in = roles.render_role(
        "meth", "route", mod["Base"], package.modules_collection, {"pkg.mod.Base": "pkg.mod.Cls"}
    )
    assert stand_in == ref("pkg.mod.Cls.route", "pkg.mod.Cls.route", "route()")


def test_rest_directives_become_markdown() -> None:
    roles = _roles_extension()
    docstring = (
        "Do it.\n\n.. code-block:: python\n\n    x = 1\n      y\n\nMore.\n\n"
        ":param a: The a.\n    .. versionchanged:: 0.2\n       Takes b.\n"
        ":raises ValueError: Bad.\n\n.. versionadded:: 0.1"
    )
    assert roles.rewrite_directives(docstring) == (
        "Do it.\n\n```python\nx = 1\n  y\n```\n\nMore.\n\n*Added in version 0.1.*\n\n"
        ":param a: The a.\n    *Changed in version 0.2:* Takes b.\n:raises ValueError: Bad."
    )
    assert roles.rewrite_directives(".. versionadded:: 0.1") == "*Added in version 0.1.*"
    # A line that starts with a role is text, not the first field.
    assert roles.rewrite_directives("A.\n:meth:`b` c.\n\n:returns: d\n\n.. versionadded:: 0.1") == (
        "A.\n:meth:`b` c.\n\n*Added in version 0.1.*\n\n:returns: d"
    )
    # A paragraph ending in "::" introduces a literal block, Python by default.
    assert roles.rewrite_directives("Like this::\n\n    app.run()\n\nDone.\n\n::\n\n    x\n") == (
        "Like this:\n\n```python\napp.run()\n```\n\nDone.\n\n```python\nx\n```"
    )
    assert roles.rewrite_directives("Not a block::\nnext line") == "Not a block::\nnext line"
    # A definition list becomes Markdown's; an unindented "block" after "::" stays as written.
    assert roles.rewrite_directives(
        "Fixtures:\n\n``client``\n    The client,\n    made.\n``runner``\n    The runner.\n\n"
        "Use::\n\nwith x:\n    y"
    ) == (
        "Fixtures:\n\n``client``\n:   The client,\n    made.\n\n``runner``\n:   The runner.\n\n\n"
        "Use::\n\nwith x:\n    y"
    )


# -- the built site ----------------------------------------------------------
#
# One build (mkdocs build --strict, as dev.py test runs it) for the checks
# below; they skip when the docs toolchain is not installed.


@pytest.fixture(scope="module")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    for name in ("mkdocs", "material", "mkdocstrings"):
        pytest.importorskip(name)
    import subprocess

    site = tmp_path_factory.mktemp("site")
    # NOTE: no --quiet: it hides the warnings from --strict's count as well,
    # and a build that dev.py test fails passed here with it.
    out = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert out.returncode == 0, out.stderr
    return site


class _Refs(html.parser.HTMLParser):
    """The links of a page, and the URLs of what the browser loads with it."""

    #: (tag, attribute) pairs whose URL the browser fetches to show the page.
    ASSETS = {
        ("script", "src"),
        ("link", "href"),
        ("img", "src"),
        ("iframe", "src"),
        ("source", "src"),
        ("source", "srcset"),
        ("video", "src"),
        ("video", "poster"),
        ("audio", "src"),
        ("embed", "src"),
        ("object", "data"),
        ("image", "href"),
        ("use", "href"),
    }

    def __init__(self) -> None:
        super().__init__()
        self.assets: list[str] = []
        self.links: list[str] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if (tag, name) in self.ASSETS:
                self.assets.append(value)
            elif tag == "a" and name == "href":
                self.links.append(value)
            elif name == "style":
                self.styles.append(value)
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)


def _refs(page: Path) -> _Refs:
    parser = _Refs()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


_EXTERNAL = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", re.I)  # http://, https://, //host
_CSS_URL = re.compile(r"""(?:url\(\s*["']?|@import\s+["'])([^"')\s]+)""")


def test_reference_parser_finds_assets_links_and_css_urls(tmp_path: Path) -> None:
    page = tmp_path / "p.html"
    page.write_text(
        '<link rel="stylesheet" href="https://fonts.googleapis.com/css?family=Roboto">'
        '<script src="//cdn.example/x.js"></script><img src="a.png"><a href="guide/">g</a>'
        "<style>@import 'https://fonts.example/f.css'; b { background: url(img/b.png) }</style>"
        '<p style="background: url(http://x.example/i.png)">x</p><code>href="/1/update"</code>'
    )
    refs = _refs(page)
    assert refs.assets == [
        "https://fonts.googleapis.com/css?family=Roboto",
        "//cdn.example/x.js",
        "a.png",
    ]
    assert refs.links == ["guide/"]
    css = [url for style in refs.styles for url in _CSS_URL.findall(style)]
    assert sorted(css) == ["http://x.example/i.png", "https://fonts.example/f.css", "img/b.png"]
    assert sorted(url for url in refs.assets + css if _EXTERNAL.match(url)) == [
        "//cdn.example/x.js",
        "http://x.example/i.png",
        "https://fonts.example/f.css",
        "https://fonts.googleapis.com/css?family=Roboto",
    ]


def test_built_site_loads_nothing_from_other_hosts(built_site: Path) -> None:
    """Fonts, scripts, styles and images all come from the site itself (file:// works offline)."""
    found = []
    for page in sorted(built_site.rglob("*.html")):
        refs = _refs(page)
        urls = refs.assets + [u for css in refs.styles for u in _CSS_URL.findall(css)]
        found += [f"{page.relative_to(built_site)}: {url}" for url in urls if _EXTERNAL.match(url)]
    for sheet in sorted(built_site.rglob("*.css")):
        urls = _CSS_URL.findall(sheet.read_text(encoding="utf-8"))
        found += [f"{sheet.relative_to(built_site)}: {url}" for url in urls if _EXTERNAL.match(url)]
    assert found == []


def test_built_site_links_name_files(built_site: Path) -> None:
    """Every link inside the site names a file, so it opens from disk (no directory URLs)."""
    bad = []
    # 404.html is only ever served by a web server, for a missing page at
    # any depth, so its links are rooted at the site's top ("/index.html").
    pages = [p for p in sorted(built_site.rglob("*.html")) if p.name != "404.html"]
    for page in pages:
        for link in _refs(page).links:
            if _EXTERNAL.match(link) or re.match(r"^[a-z][a-z0-9+.-]*:", link, re.I):
                continue  # another site, mailto:, ...
            path = link.split("#", 1)[0].split("?", 1)[0]
            if not path:
                continue  # an anchor on the same page
            target = (page.parent / path).resolve()
            if not target.is_file():
                bad.append(f"{page.relative_to(built_site)}: {link}")
    assert bad == []
    assert (built_site / "index.html").is_file() and (built_site / "api.html").is_file()


def test_built_site_searches_offline(built_site: Path) -> None:
    # The offline plugin inlines the index into a script: no fetch(), which file:// refuses.
    index = built_site / "search" / "search_index.js"
    assert index.read_text(encoding="utf-8").startswith("var __index = {")


_RAW_ROLE = re.compile(r":(?:py:)?[a-z]+:(?:`|<code>)")


def test_built_reference_shows_no_sphinx_markup(built_site: Path) -> None:
    """Roles render as links or code, and reST directives as text, on the pages and in search."""
    import json

    # The reference pages, and what search shows of them (other pages may
    # show the markup as an example, as docs/contributing.md does).
    pages = [built_site / "api.html", *sorted((built_site / "api").glob("*.html"))]
    texts = {str(p.relative_to(built_site)): p.read_text("utf-8") for p in pages}
    index = json.loads((built_site / "search" / "search_index.json").read_text("utf-8"))
    texts["search index"] = "\n".join(
        doc["title"] + "\n" + doc["text"]
        for doc in index["docs"]
        if doc["location"].startswith("api")
    )
    assert len(texts["search index"]) > 100_000  # the reference is in it
    # Code blocks show source as it is (an attribute's value may be a string
    # with a role in it); the rest of the text must not.
    texts = {name: re.sub(r"<pre\b.*?</pre>", "", text, flags=re.S) for name, text in texts.items()}
    raw = {name: _RAW_ROLE.findall(text)[:3] for name, text in texts.items()}
    assert {name: found for name, found in raw.items() if found} == {}
    assert [name for name, text in texts.items() if ".. versionadded::" in text] == []
    # :meth:`route` in Erlen's docstring links to Erlen.route, shown as route().
    assert re.search(
        r'<a class="autorefs autorefs-internal"[^>]*href="#erlen\.Erlen\.route"[^>]*>'
        r"<code>route\(\)</code></a>",
        texts["api.html"],
    )
    # A role naming Response by its module (:class:`~erlen.wrappers.Response`)
    # links to where the reference shows it, as erlen.Response on api.html.
    to_response = re.compile(r'href="\.\./api\.html#erlen\.Response"><code>Response</code></a>')
    assert any(to_response.search(text) for name, text in texts.items() if name.startswith("api/"))


def test_built_reference_documents_each_object_once(built_site: Path) -> None:
    """A class or function of a module is documented in full once, under one name.

    (A second name for it, ``Client = ErlenClient``, shows as an attribute;
    methods inherited by both Erlen and Blueprint appear under both, as in
    Flask's reference. This looks at module-level classes and functions.)
    """
    heading = re.compile(
        r'<h\d id="(erlen(?:\.\w+)*)" class="doc doc-heading">\s*'
        r'<span class="doc doc-object-name doc-(?:class|function)-name">'
    )
    names = {n for p in built_site.rglob("*.html") for n in heading.findall(p.read_text("utf-8"))}
    by_object: dict[int, list[str]] = {}
    for name in sorted(names):
        parent, _, attr = name.rpartition(".")
        try:
            module = importlib.import_module(parent)
        except ImportError:
            continue  # a member of a class
        by_object.setdefault(id(getattr(module, attr)), []).append(name)
    assert len(by_object) > 200  # the pattern still finds the reference's entries
    assert [names for names in by_object.values() if len(names) > 1] == []


# -- the performance page ---------------------------------------------------


def _chart_module() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("docs_chart", DOCS / "performance" / "chart.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_performance_table_matches_the_benchmark_json() -> None:
    """The page shows what the committed benchmark output says (rerun chart.py after a new run)."""
    chart = _chart_module()
    page = (DOCS / "performance" / "index.md").read_text(encoding="utf-8")
    assert chart.markdown_table(chart.load()) in page
    assert (DOCS / "performance" / "bench.png").stat().st_size > 10_000


def test_performance_instructions_table_matches_its_json() -> None:
    """The page shows the committed instruction counts (rerun chart.py after a new run)."""
    chart = _chart_module()
    page = (DOCS / "performance" / "index.md").read_text(encoding="utf-8")
    assert chart.instructions_table(chart.load(chart.INSTRUCTIONS_PATH)) in page


def test_performance_instructions_table_targets() -> None:
    chart = _chart_module()
    data = {
        "instructions": {
            "varied": {
                "erlen": {"hello": 30_000.0, "session": 150_000.0},
                "falcon": {"hello": 40_000.0},
                "flask": {"hello": 300_000.0, "session": 1_000_000.0},
            },
            "fixed": {"erlen": {"hello": 29_000.0}},
        }
    }
    lines = chart.instructions_table(data).splitlines()
    assert lines[2] == (
        "| `hello` | 30.0 k | 300.0 k | n/a | 40.0 k | 0.75× | 0.10× "
        "| ≤ 0.8× Falcon: met | 29.0 k |"
    )
    assert lines[3] == (
        "| `session` | 150.0 k | 1000.0 k | n/a | n/a | n/a | 0.15× "
        "| ≤ 0.1× Flask: **missed** | n/a |"
    )


def test_performance_table_formats_missing_results() -> None:
    chart = _chart_module()
    result = {"best_us": 10.0}
    data = {
        "cases": {
            "hello": {
                "request": "GET /",
                "results": {"erlen": result, "flask": {"best_us": 40.0}, "bottle": result},
            },
        }
    }
    assert (
        chart.markdown_table(data).splitlines()[-1]
        == "| `hello` | `GET /` | 10.0 | 40.0 | 10.0 | n/a | 0.25× | n/a |"
    )


def test_performance_chart_is_drawn(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib")
    chart = _chart_module()
    out = tmp_path / "chart.png"
    assert chart.main([str(DOCS / "performance" / "bench.json"), str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert out.stat().st_size > 10_000
    assert capsys.readouterr().out == chart.markdown_table(chart.load())


def test_performance_end_to_end_tables_match_their_json() -> None:
    """The page shows the committed end-to-end run (benchmarks/e2e_run.py; rerun chart.py)."""
    chart = _chart_module()
    page = (DOCS / "performance" / "index.md").read_text(encoding="utf-8")
    data = chart.load(chart.E2E_PATH)
    for interface in chart.E2E_GROUPS:
        assert chart.e2e_table(data, interface) in page
    assert (DOCS / "performance" / "e2e.png").stat().st_size > 10_000


def _e2e_data() -> dict[str, object]:
    def result(rps: float, cpu_us: float) -> dict[str, float]:
        return {"rps": rps, "cpu_us": cpu_us}

    return {
        "meta": {
            "cases": ["hello", "json"],
            "targets": {"granian-wsgi": {"falcon": 1.2}, "uvicorn": {"starlette": 1.2}},
            "connections": 32,
            "python": "CPython 3.11.7 (x86_64)",
            "cpu_count": 2,
            "date": "2026-12-08T03:00:00+00:00",
        },
        "loadavg": [1.0, 2.0],
        "best": {
            "granian-wsgi": {
                "erlen": {"hello": result(60_000, 10.0), "json": result(50_000, 12.0)},
                "falcon": {"hello": result(40_000, 15.0)},
            },
            "uvicorn": {"starlette": {"hello": result(9_000, 100.0)}},
        },
    }


def test_performance_end_to_end_table_targets() -> None:
    chart = _chart_module()
    wsgi = chart.e2e_table(_e2e_data(), "WSGI").splitlines()
    assert wsgi[2] == (
        "| granian-wsgi | `hello` | 60.0 k | 40.0 k | n/a | n/a | n/a | 1.50× | 1.50× "
        "| ≥ 1.2× Falcon: met |"
    )
    assert wsgi[3].endswith("| n/a | n/a | ≥ 1.2× Falcon: n/a |")
    assert len(wsgi) == 4  # gunicorn-sync did not run: no rows
    asgi = chart.e2e_table(_e2e_data(), "ASGI").splitlines()
    assert asgi[2] == (
        "| uvicorn | `hello` | n/a | n/a | 9.0 k | n/a | n/a | n/a | ≥ 1.2× Starlette: n/a |"
    )


def test_performance_end_to_end_chart_is_drawn(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    chart = _chart_module()
    out = tmp_path / "e2e.png"
    chart.draw_e2e(_e2e_data(), out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert out.stat().st_size > 10_000


# -- keeping the tutorial in step with examples/flaskr ----------------------


def _sync_module(root: Path) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("docs_sync_tutorial", DOCS / "sync_tutorial.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.ROOT, module.EXAMPLE = root, root / "examples" / "flaskr"  # type: ignore[attr-defined]
    return module


def test_sync_tutorial_rewrites_only_the_last_block_of_each_package_file(tmp_path: Path) -> None:
    (tmp_path / "examples" / "flaskr" / "flaskr").mkdir(parents=True)
    (tmp_path / "examples" / "flaskr" / "tests").mkdir()
    (tmp_path / "examples" / "flaskr" / "flaskr" / "a.py").write_text("A = 1\n\n\nB = 2\n")
    (tmp_path / "examples" / "flaskr" / "flaskr" / "b.css").write_text("p {}\n")
    (tmp_path / "examples" / "flaskr" / "tests" / "t.py").write_text("real tests\n")
    (tmp_path / "docs" / "tutorial").mkdir(parents=True)
    (tmp_path / "mkdocs.yml").write_text("nav:\n  - tutorial/one.md\n  - tutorial/two.md\n")
    one = '```python title="flaskr/a.py"\nA = 0\n```\n'
    two = (
        '```python title="flaskr/a.py"\nA = 0\n```\n\n'
        '??? example\n\n    ```css title="flaskr/b.css"\n    old\n    ```\n\n'
        '```python title="tests/t.py"\nthe tutorial\'s own\n```\n'
    )
    (tmp_path / "docs" / "tutorial" / "one.md").write_text(one)
    (tmp_path / "docs" / "tutorial" / "two.md").write_text(two)
    sync = _sync_module(tmp_path)
    assert sorted(sync.sync(write=False)) == ["flaskr/a.py", "flaskr/b.css"]
    assert (tmp_path / "docs" / "tutorial" / "two.md").read_text() == two  # a check writes nothing
    assert sorted(sync.sync()) == ["flaskr/a.py", "flaskr/b.css"]
    assert (tmp_path / "docs" / "tutorial" / "one.md").read_text() == one  # an earlier step stays
    assert (tmp_path / "docs" / "tutorial" / "two.md").read_text() == (
        '```python title="flaskr/a.py"\nA = 1\n\n\nB = 2\n```\n\n'
        '??? example\n\n    ```css title="flaskr/b.css"\n    p {}\n    ```\n\n'
        '```python title="tests/t.py"\nthe tutorial\'s own\n```\n'
    )
    assert sync.sync() == [] and sync.sync(write=False) == []


def test_contributing_page_lists_the_shown_only_languages() -> None:
    """The rule written for authors is the rule the tests apply."""
    page = (DOCS / "contributing.md").read_text(encoding="utf-8")
    row = next(line for line in page.splitlines() if line.startswith("| `sh`"))
    listed = set(re.findall(r"`([\w+]+)`", row.split("|")[1]))
    assert listed == SHOWN_ONLY


def test_sync_tutorial_script_finds_nothing_to_do() -> None:
    """Run as a script on the real tree, it changes nothing: tutorial and example agree."""
    import subprocess

    out = subprocess.run(
        [sys.executable, str(DOCS / "sync_tutorial.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (out.returncode, out.stdout) == (0, "")


def _project_markdown() -> list[Path]:
    # The project's own pages: git's tracked and not-ignored files, so the
    # ignored folders of generated or downloaded text (venvs, the compat
    # corpus under .compat-envs/, the built site) are left out.
    import subprocess

    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.md"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.splitlines()
    return sorted(p for p in (ROOT / name for name in listed) if p.exists())


@pytest.mark.parametrize("page", _project_markdown(), ids=lambda p: str(p.relative_to(ROOT)))
def test_markdown_files_are_not_garbled(page: Path) -> None:
    # Regression: a scripted edit once repeated a table between every
    # character of fuzz/README.md (3.6 kB became 904 kB); it still rendered,
    # so nothing else noticed. No page of ours is near this size, and no
    # long line appears in one file more than a handful of times.
    text = page.read_text(encoding="utf-8")
    assert len(text) < 100_000, f"{page} is {len(text):,} characters"
    lines = [line for line in text.splitlines() if len(line) > 40]
    counts: dict[str, int] = {}
    for line in lines:
        counts[line] = counts.get(line, 0) + 1
    worst = max(counts.items(), key=lambda kv: kv[1], default=("", 0))
    assert worst[1] <= 20, f"{page} repeats {worst[0]!r} {worst[1]} times"
