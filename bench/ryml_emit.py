"""YAML emission through rapidyaml, as Kapitan does it (--yaml-use-rapidyaml).

Runs with the Kapitan virtualenv's interpreter (it has Kapitan and rapidyaml):

    bench/work/kapitan-venv/bin/python bench/ryml_emit.py BODIES.json

BODIES.json is a list of objects; prints {"seconds": ..., "texts": [...]} as JSON.
"""

from __future__ import annotations

import io
import json
import sys
import time


def main() -> None:
    from kapitan.yaml_ryml import dump  # type: ignore[import-not-found]

    with open(sys.argv[1], encoding="utf-8") as f:
        bodies = json.load(f)
    texts = []
    started = time.perf_counter()
    for body in bodies:
        out = io.StringIO()
        dump(body, out)
        texts.append(out.getvalue())
    seconds = time.perf_counter() - started
    json.dump({"seconds": seconds, "texts": texts}, sys.stdout)


if __name__ == "__main__":
    main()
