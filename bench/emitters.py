"""YAML emission alone: rtc's emitter against PyYAML (Python and C) and rapidyaml, on the same objects.

Each candidate turns every object of a workload into YAML text once per
repetition; the median is reported, with whether its text is rtc's canonical
format (byte-identical to the reference, PyYAML's CSafeDumper in canonical
key order).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from compiler import yaml_emitter
from compiler.emit import canonical, to_yaml


class _PythonDumper(yaml.SafeDumper):
    """The reference format through PyYAML's pure-Python emitter."""


_PythonDumper.add_representer(str, yaml_emitter._represent_str)


def _pure_python(body: dict[str, Any]) -> str:
    text: str = yaml.dump(
        canonical(body),
        Dumper=_PythonDumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=1 << 30,
    )
    return text


def _reference(body: dict[str, Any]) -> str:
    return yaml_emitter.reference_dump(canonical(body))


def _json(body: dict[str, Any]) -> str:
    return json.dumps(body, sort_keys=True, indent=2, ensure_ascii=False)


CANDIDATES: dict[str, Callable[[dict[str, Any]], str]] = {
    "rtc emitter (compiler/yaml_emitter.py)": to_yaml,
    "PyYAML CSafeDumper + canonical copy (reference)": _reference,
    "PyYAML pure-Python SafeDumper": _pure_python,
    "json.dumps(indent=2) (not YAML, for scale)": _json,
}


def _time(function: Callable[[dict[str, Any]], str], bodies: list[dict[str, Any]]) -> tuple[float, list[str]]:
    yaml_emitter._tails.clear()  # each repetition starts cold, as a worker process does
    started = time.perf_counter()
    texts = [function(body) for body in bodies]
    return time.perf_counter() - started, texts


def measure(bodies: list[dict[str, Any]], repeat: int, kapitan_python: Path | None) -> dict[str, Any]:
    reference = [_reference(body) for body in bodies]
    results: dict[str, Any] = {}
    for name, function in CANDIDATES.items():
        runs = []
        texts: list[str] = []
        # The pure-Python emitter takes seconds per thousand objects: once is enough.
        for _ in range(1 if "pure-Python" in name else repeat):
            seconds, texts = _time(function, bodies)
            runs.append(seconds)
        results[name] = {
            "seconds": statistics.median(runs),
            "runs": runs,
            "canonical": texts == reference,
        }
    if kapitan_python is not None and kapitan_python.exists():
        results["rapidyaml through Kapitan's yaml_ryml.dump"] = _rapidyaml(bodies, repeat, kapitan_python, reference)
    return results


def _rapidyaml(bodies: list[dict[str, Any]], repeat: int, kapitan_python: Path, reference: list[str]) -> dict[str, Any]:
    script = Path(__file__).with_name("ryml_emit.py")
    runs = []
    texts: list[str] = []
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "bodies.json"
        data.write_text(json.dumps(bodies), encoding="utf-8")
        for _ in range(repeat):
            done = subprocess.run([str(kapitan_python), str(script), str(data)], capture_output=True, check=True)
            output = json.loads(done.stdout)
            runs.append(output["seconds"])
            texts = output["texts"]
    return {
        "seconds": statistics.median(runs),
        "runs": runs,
        "canonical": texts == reference,
        "identical_objects": sum(a == b for a, b in zip(texts, reference, strict=True)),
    }
