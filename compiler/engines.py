"""One small adapter over the Jsonnet engines rtc can use.

jrsonnet (`rjsonnet`) is the default: on idiomatic mixin code it measured 15x
faster than go-jsonnet and 100x faster than the C++ binding. go-jsonnet
(`gojsonnet`) is the reference implementation with the complete std library.
The catalog keeps to the std functions both have; a test proves both engines
give byte-identical output on it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, Protocol

# (importing folder, import string) -> (resolved path, text). Raising refuses the import.
ImportCallback = Callable[[str, str], tuple[str, str]]

ENGINE_NAMES = ("rjsonnet", "gojsonnet")


class EngineError(Exception):
    """The engine reported an error; the text is the engine's own, with its trace."""


class Engine(Protocol):
    name: str

    def evaluate_file(self, path: str, *, import_callback: ImportCallback, max_stack: int) -> str: ...

    def evaluate_snippet(
        self, filename: str, source: str, *, import_callback: ImportCallback, max_stack: int
    ) -> str: ...


class RJsonnet:
    """jrsonnet through the `rjsonnet` binding. It reads even the entry file
    through the import callback, which is what keeps evaluation hermetic.

    jrsonnet's values are reference-counted with a cycle collector
    (jrsonnet-gcmodule); an evaluation leaves cyclic garbage (~80 KB per
    object in catalog-style code) that only a collection frees. The binding's
    `gc=True` collects during and after every evaluation, which measured
    slower than one `rjsonnet.gc()` afterwards, and slower still than not
    collecting in a process that exits right after: so with
    `collect_garbage=False` (a throw-away worker process) nothing is
    collected, otherwise once per evaluation.
    """

    name = "rjsonnet"

    def __init__(self, *, collect_garbage: bool = True) -> None:
        import rjsonnet

        # Typed loosely: the binding's stub lacks `gc` (the function and the keyword).
        self._module: Any = rjsonnet
        self._collect = collect_garbage

    def _run(self, call: Callable[[], object]) -> str:
        try:
            return str(call())
        except RuntimeError as exc:
            raise EngineError(str(exc)) from None
        finally:
            if self._collect:
                self._module.gc()

    def evaluate_file(self, path: str, *, import_callback: ImportCallback, max_stack: int) -> str:
        return self._run(
            lambda: self._module.evaluate_file(path, import_callback=import_callback, max_stack=max_stack, gc=False)
        )

    def evaluate_snippet(self, filename: str, source: str, *, import_callback: ImportCallback, max_stack: int) -> str:
        # jrsonnet resolves the snippet's own imports from the working directory
        # (an absolute path), not from `filename`'s folder as go-jsonnet does.
        cwd, folder = os.getcwd(), os.path.dirname(filename) or "."

        def from_snippet(base: str, rel: str) -> tuple[str, str]:
            return import_callback(folder if os.path.normpath(base) == cwd else base, rel)

        return self._run(
            lambda: self._module.evaluate_snippet(
                filename, source, import_callback=from_snippet, max_stack=max_stack, gc=False
            )
        )


class GoJsonnet:
    """go-jsonnet through the `gojsonnet` binding (module `_gojsonnet`), which
    wants imported content as bytes."""

    name = "gojsonnet"

    def __init__(self) -> None:
        import _gojsonnet

        self._module = _gojsonnet

    @staticmethod
    def _bytes_callback(callback: ImportCallback) -> Callable[[str, str], tuple[str, bytes]]:
        def wrapped(base: str, rel: str) -> tuple[str, bytes]:
            try:
                found, text = callback(base, rel)
            except Exception:
                # The binding garbles long exception messages (seen: invalid UTF-8 in
                # the error text); the callback keeps the full reason for the report.
                raise RuntimeError("import refused") from None
            return found, text.encode("utf-8")

        return wrapped

    def evaluate_file(self, path: str, *, import_callback: ImportCallback, max_stack: int) -> str:
        # go-jsonnet reads the entry file itself, bypassing the callback; read it
        # through the callback so the same rules apply, then evaluate it as a snippet.
        found, text = import_callback(".", path)
        return self.evaluate_snippet(found, text, import_callback=import_callback, max_stack=max_stack)

    def evaluate_snippet(self, filename: str, source: str, *, import_callback: ImportCallback, max_stack: int) -> str:
        try:
            return str(
                self._module.evaluate_snippet(
                    filename,
                    source,
                    import_callback=self._bytes_callback(import_callback),
                    max_stack=max_stack,
                )
            )
        except RuntimeError as exc:
            raise EngineError(str(exc)) from None
        except UnicodeDecodeError as exc:
            # gojsonnet 0.22.0 returns some error texts with stray bytes at the end
            # (for some message lengths); keep the readable part.
            raise EngineError(bytes(exc.object[: exc.start]).decode("utf-8")) from None


def get_engine(name: str, *, collect_garbage: bool = True) -> Engine:
    """The named engine. `collect_garbage=False` is for a process that exits
    after the evaluation, which frees the engine's garbage for free."""
    if name == "rjsonnet":
        return RJsonnet(collect_garbage=collect_garbage)
    if name == "gojsonnet":
        return GoJsonnet()
    raise ValueError(f"unknown Jsonnet engine {name!r}; choose one of: {', '.join(ENGINE_NAMES)}")
