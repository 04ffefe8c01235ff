"""Rendering: one Jinja asset + parameter values → text and a map back to the asset.   AF7xx

Input: the files of a template's folder (repo-relative path → text), the asset to render and
the values to render it with. Output: `Rendered` (the text and a `RenderMap`) or a
`RenderFailure` placed at the asset line that caused it. Rendering runs in `sandbox.Sandbox`,
under a deadline (a watchdog interrupts even a loop that prints nothing) and an output cap, and
is deterministic: no clock, no randomness, no environment reaches a template.
"""

from __future__ import annotations

import ctypes
import re
import threading
from collections.abc import Generator, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any, cast

from jinja2 import TemplateNotFound, TemplateSyntaxError, UndefinedError
from jinja2.exceptions import SecurityError, TemplateError

from agentflow.compiler.diagnostics import codes
from agentflow.compiler.diagnostics.codes import Code
from agentflow.compiler.diagnostics.positions import Span
from agentflow.compiler.templates.positions import (
    AssetText,
    RenderMap,
    TextLines,
    YieldSite,
    YieldSites,
    find_yield_sites,
    place_nodes,
    tokens,
)
from agentflow.compiler.templates.sandbox import MAX_OUTPUT_CHARS, FolderLoader, Sandbox

MAX_RENDER_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class Rendered:
    asset: str
    text: str
    positions: RenderMap


@dataclass(frozen=True, slots=True)
class RenderFailure:
    code: Code
    file: str
    """The asset, or the file of its folder it includes, where the problem is."""
    span: Span
    message: str
    hint: str | None = None


def render_asset(
    folder: str,
    files: Mapping[str, str],
    asset: str,
    values: Mapping[str, object],
    *,
    seconds: float = MAX_RENDER_SECONDS,
    max_chars: int = MAX_OUTPUT_CHARS,
) -> Rendered | RenderFailure:
    """Render ``asset`` (a path in ``files``, inside ``folder``) with ``values``."""
    loader = FolderLoader(folder, files)
    environment = Sandbox(loader)
    text = files[asset]
    try:
        with _deadline(seconds):
            return _render(environment, asset, text, values, max_chars)
    except _OutOfTime as error:
        line = error.args[0] if error.args else 1
        return _failure(
            codes.TEMPLATE_LIMIT,
            asset,
            line,
            f"rendering took longer than {seconds:g} s",
            "a loop that runs too long, perhaps nested loops over large ranges",
            files,
        )
    except (RecursionError, MemoryError, SyntaxError) as error:
        # SyntaxError: Python's own limit on nested blocks, reached by deeply nested tags.
        return RenderFailure(
            codes.TEMPLATE_LIMIT,
            asset,
            Span(1, 1),
            f"the template is too deeply nested or too large to render ({type(error).__name__})",
        )
    except TemplateSyntaxError as error:
        where = error.filename if error.filename and error.filename in files else asset
        message = error.message or str(error)
        opened = _unclosed_block(environment, files[where], message)
        if opened is not None:  # Jinja reports the end of the file; the cause is the tag
            name, span = opened
            return RenderFailure(
                codes.TEMPLATE_SYNTAX,
                where,
                span,
                message,
                f"this '{name}' block is still open at the end of the template (line "
                f"{_last_line(files[where])}); close it with '{{% end{name} %}}'",
            )
        return _failure(codes.TEMPLATE_SYNTAX, where, error.lineno, message)
    except SecurityError as error:
        return _at_traceback(codes.TEMPLATE_SANDBOX, error, asset, files, str(error))
    except UndefinedError as error:
        return _at_traceback(
            codes.TEMPLATE_UNDEFINED,
            error,
            asset,
            files,
            str(error),
            "declare it as a parameter, or test it with 'is defined'",
        )
    except TemplateNotFound as error:
        return _not_found(error, asset, files, loader)
    except (TemplateError, ArithmeticError, LookupError, TypeError, ValueError) as error:
        return _at_traceback(codes.TEMPLATE_ERROR, error, asset, files, _describe(error))


def _render(
    environment: Sandbox, asset: str, text: str, values: Mapping[str, object], max_chars: int
) -> Rendered | RenderFailure:
    tree, python_source, generator = environment.compile_asset(text, asset)
    code = compile(python_source, asset, "exec")
    template = environment.template_class.from_code(
        environment, code, environment.make_globals(None)
    )
    line_of = {
        line: template.get_corresponding_lineno(line)
        for line in range(1, python_source.count("\n") + 2)
    }
    asset_text = AssetText(text)
    sites = find_yield_sites(
        asset_text,
        place_nodes(environment, asset_text, tree),
        python_source,
        line_of,
        generator.literal_yields,
        generator.expression_yields,
    )
    # Template.generate is a generator function; typeshed-style stubs call it an Iterator.
    output = cast(Generator[str, None, None], template.generate(dict(values)))
    try:
        return _collect(output, asset, sites, max_chars)
    except _OutOfTime as error:  # raised into template code: its frames name the line
        line = 1
        tb = error.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == asset:
                line = template.get_corresponding_lineno(tb.tb_lineno)
            tb = tb.tb_next
        raise _OutOfTime(line) from None


def _collect(
    generator: Generator[str, None, None],
    asset: str,
    sites: YieldSites,
    max_chars: int,
) -> Rendered | RenderFailure:
    pieces: list[str] = []
    offsets: list[int] = []
    chunk_sites: list[YieldSite] = []
    size = 0
    for chunk in generator:
        if not chunk:
            continue
        offsets.append(size)
        chunk_sites.append(_site_of(generator, asset, sites.by_line))
        pieces.append(chunk)
        size += len(chunk)
        if size > max_chars:
            generator.close()
            # Like every error raised while rendering: at the line, not inside it.
            return _failure(
                codes.TEMPLATE_LIMIT,
                asset,
                sites.asset.span(chunk_sites[-1].offset).line,
                f"rendered output is larger than {max_chars // 1024} KiB",
                "a loop that repeats too often, or a value that is too large",
                {asset: sites.asset.lines.text},
            )
    rendered = "".join(pieces)
    positions = RenderMap(sites.asset, TextLines(rendered), tuple(offsets), tuple(chunk_sites))
    return Rendered(asset=asset, text=rendered, positions=positions)


def _site_of(
    generator: Generator[str, None, None], asset: str, sites: Mapping[int, YieldSite]
) -> YieldSite:
    """The yield the asset's code is suspended at: the deepest frame of the asset's own code."""
    line = None
    current: Any = generator
    while current is not None:
        frame = getattr(current, "gi_frame", None)
        if frame is not None and frame.f_code.co_filename == asset:
            line = frame.f_lineno
        current = getattr(current, "gi_yieldfrom", None)
    if line is not None and line in sites:
        return sites[line]
    return YieldSite(0)


def _at_traceback(
    code: Code,
    error: BaseException,
    asset: str,
    files: Mapping[str, str],
    message: str,
    hint: str | None = None,
) -> RenderFailure:
    """Place a run-time error at the innermost template line in its traceback.

    Jinja rewrites tracebacks so that template frames carry the template's file and line.
    """
    file, line = asset, 1
    tb: TracebackType | None = error.__traceback__
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if name in files:
            file, line = name, tb.tb_lineno
        tb = tb.tb_next
    return _failure(code, file, line, message, hint, files)


def _not_found(
    error: TemplateNotFound, asset: str, files: Mapping[str, str], loader: FolderLoader
) -> RenderFailure:
    name = str(error.name)
    if loader.resolve(name) is None:
        return _at_traceback(
            codes.TEMPLATE_SANDBOX,
            error,
            asset,
            files,
            f"'{name}' is outside the template's folder",
            "a template may include or import only files of its own folder",
        )
    return _at_traceback(
        codes.TEMPLATE_ERROR,
        error,
        asset,
        files,
        f"'{name}' is not a file of the template's folder",
    )


_UNCLOSED = re.compile(
    r"Unexpected end of template\b.*The innermost block that needs to be closed is '(\w+)'",
    re.DOTALL,
)
_BLOCK_TAGS = frozenset(
    {"autoescape", "block", "call", "filter", "for", "if", "macro", "set", "trans", "with"}
)
"""Tags that open a block closed by ``end<tag>`` (``set`` only without ``=``)."""


def _unclosed_block(environment: Sandbox, text: str, message: str) -> tuple[str, Span] | None:
    """For Jinja's "Unexpected end of template": the innermost block left open, and where its
    opening tag starts, found by replaying the tags of ``text`` on a stack of open blocks."""
    innermost = _UNCLOSED.match(message)
    if innermost is None:
        return None
    asset = AssetText(text)
    stack: list[tuple[str, int]] = []
    tag: list[tuple[str, str]] | None = None  # the tokens of the tag being read
    start = 0
    try:
        for offset, kind, value in tokens(environment, asset):
            if offset < 0:
                return None
            if kind == "block_begin":
                tag, start = [], offset
            elif kind == "block_end" and tag is not None:
                _track_block(stack, tag, start)
                tag = None
            elif tag is not None and kind != "whitespace":
                tag.append((kind, value))
    except TemplateSyntaxError:
        return None
    if not stack or stack[-1][0] != innermost.group(1):
        return None
    return stack[-1][0], asset.span(stack[-1][1])


def _last_line(text: str) -> int:
    """The line of the last character that is not a line break."""
    return TextLines(text).span(max(len(text.rstrip("\r\n")) - 1, 0)).line


def _track_block(stack: list[tuple[str, int]], tag: list[tuple[str, str]], start: int) -> None:
    if not tag or tag[0][0] != "name":
        return
    name = tag[0][1]
    if name.startswith("end"):
        if stack and stack[-1][0] == name[3:]:
            stack.pop()
    elif name in _BLOCK_TAGS and not (name == "set" and _assigns(tag)):
        stack.append((name, start))


def _assigns(tag: list[tuple[str, str]]) -> bool:
    """Whether a ``set`` tag has an ``=`` of its own (not one inside brackets): no block."""
    depth = 0
    for kind, value in tag:
        if kind != "operator":
            continue
        if value in "([{":
            depth += 1
        elif value in ")]}":
            depth -= 1
        elif value == "=" and depth == 0:
            return True
    return False


def _failure(
    code: Code,
    file: str,
    line: int | None,
    message: str,
    hint: str | None = None,
    files: Mapping[str, str] | None = None,
) -> RenderFailure:
    lines = TextLines((files or {}).get(file, ""))
    number = max(line or 1, 1)
    start = lines.line_start(number)
    line_text = lines.text[start:].split("\n", 1)[0]
    column = len(line_text) - len(line_text.lstrip()) + 1
    return RenderFailure(code, file, Span(number, column), message, hint)


def _describe(error: BaseException) -> str:
    text = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


class _OutOfTime(BaseException):
    """Raised into the rendering thread by the watchdog; a BaseException, so nothing in Jinja's
    ``except Exception`` handlers swallows it."""


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Interrupt the calling thread after ``seconds``, even inside a loop that yields nothing."""
    thread = threading.get_ident()
    lock = threading.Lock()
    state = {"done": False, "fired": False}

    def expire() -> None:
        with lock:
            if not state["done"]:
                state["fired"] = True
                _raise_in(thread, _OutOfTime)

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        with lock:
            state["done"] = True
            fired = state["fired"]
        timer.cancel()
        if fired:
            _raise_in(thread, None)  # clear it, should it still be pending


def _raise_in(thread: int, exception: type[BaseException] | None) -> None:
    target = ctypes.py_object(exception) if exception is not None else None
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread), target)
