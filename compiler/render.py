"""Rendering: one Jinja asset + parameter values → text and a map back to the asset.   AF7xx

Input: the files of a template's folder (repo-relative path → text), the asset to render and
the values to render it with. Output: `Rendered` (the text and a `RenderMap`) or a
`RenderFailure` placed at the asset line that caused it. Rendering runs in `sandbox.Sandbox`,
under a deadline (a watchdog interrupts even a loop that prints nothing) and an output cap, and
is deterministic: no clock, no randomness, no environment reaches a template.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Generator, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any, cast

from jinja2 import TemplateNotFound, TemplateSyntaxError, UndefinedError
from jinja2.exceptions import SecurityError, TemplateError

from . import codes
from .codes import Code
from .render_map import RenderMap, TextLines, YieldSite, YieldSites, find_yield_sites
from .sandbox import MAX_OUTPUT_CHARS, FolderLoader, Sandbox
from .source import Span

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
        return _failure(codes.TEMPLATE_SYNTAX, where, error.lineno, error.message or str(error))
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
    python_source = environment.compile(text, asset, asset, raw=True)
    code = compile(python_source, asset, "exec")
    template = environment.template_class.from_code(
        environment, code, environment.make_globals(None)
    )
    line_of = {
        line: template.get_corresponding_lineno(line)
        for line in range(1, python_source.count("\n") + 2)
    }
    sites = find_yield_sites(text, python_source, line_of)
    # Template.generate is a generator function; typeshed-style stubs call it an Iterator.
    generator = cast(Generator[str, None, None], template.generate(dict(values)))
    try:
        return _collect(generator, asset, text, sites, max_chars)
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
    text: str,
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
            return RenderFailure(
                codes.TEMPLATE_LIMIT,
                asset,
                TextLines(text).span(chunk_sites[-1].offset),
                f"rendered output is larger than {max_chars // 1024} KiB",
                hint="a loop that repeats too often, or a value that is too large",
            )
    rendered = "".join(pieces)
    positions = RenderMap(
        TextLines(text),
        TextLines(rendered),
        tuple(offsets),
        tuple(chunk_sites),
        sites.plain_to_asset,
    )
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
