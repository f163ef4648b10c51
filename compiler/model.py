"""The data that flows between stages after evaluation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Layers:
    """The files that produced one object, in layer order."""

    runtime: str
    hardware: str
    platform: str
    overlay: str

    def files(self) -> tuple[str, ...]:
        return (self.overlay, self.runtime, self.hardware, self.platform)


@dataclass
class RenderedObject:
    cluster: str
    runtime: str
    hardware: str
    body: dict[str, Any]
    layers: Layers
    requirements: dict[str, Any] = field(default_factory=dict)
    # Set by emit: the file (relative to out/) this object is written to.
    out_path: str = ""

    @property
    def kind(self) -> str:
        return str(self.body.get("kind", ""))

    @property
    def _metadata(self) -> dict[str, Any]:
        metadata = self.body.get("metadata")
        return metadata if isinstance(metadata, dict) else {}

    @property
    def name(self) -> str:
        return str(self._metadata.get("name", ""))

    @property
    def namespace(self) -> str | None:
        ns = self._metadata.get("namespace")
        return str(ns) if ns is not None else None

    @property
    def label(self) -> str:
        """How messages name the object: Kind/name (runtime on hardware)."""
        return f"{shown(self.kind)}/{shown(self.name)} ({self.runtime} on {self.hardware})"


def shown(text: str, limit: int = 63) -> str:
    """`text` fit for a one-line message: control characters escaped, long text cut."""
    if not text.isprintable():
        text = repr(text)[1:-1]
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


@dataclass
class ClusterRender:
    cluster: str
    platform: str
    entry: str
    objects: list[RenderedObject] = field(default_factory=list)
