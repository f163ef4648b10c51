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


@dataclass(frozen=True)
class ArgoCDDelivery:
    """An overlay's `gitops: rtc.argocd {...}`: Argo CD syncs out/<cluster>/."""

    cluster: str
    entry: str
    repo_url: str
    revision: str
    namespace: str
    project: str
    mode: str
    # Exactly one of the two is set.
    destination_name: str | None = None
    destination_server: str | None = None


@dataclass(frozen=True)
class FluxDelivery:
    """An overlay's `gitops: rtc.flux {...}`: Flux syncs out/<cluster>/."""

    cluster: str
    entry: str
    repo_url: str
    revision: str
    namespace: str
    source: str
    interval: str
    # None: Flux applies to the cluster it runs in.
    kube_config_secret: str | None = None


Delivery = ArgoCDDelivery | FluxDelivery


@dataclass
class RenderedObject:
    cluster: str
    runtime: str
    hardware: str
    body: dict[str, Any]
    layers: Layers
    requirements: dict[str, Any] = field(default_factory=dict)
    # The runtime's lintExceptions (rule id -> reason) and the hardware's device resource.
    suppressions: dict[str, Any] = field(default_factory=dict)
    resource_key: str | None = None
    # Set by emit: the file (relative to out/) this object is written to.
    out_path: str = ""
    # The files behind an object that has no runtime layers (GitOps objects).
    origin: tuple[str, ...] = ()

    @property
    def sources(self) -> tuple[str, ...]:
        """The files named in the generated file's header."""
        return self.origin or self.layers.files()

    @property
    def kind(self) -> str:
        return str(self.body.get("kind", ""))

    @property
    def name(self) -> str:
        return str(self.body.get("metadata", {}).get("name", ""))

    @property
    def namespace(self) -> str | None:
        ns = self.body.get("metadata", {}).get("namespace")
        return str(ns) if ns is not None else None

    @property
    def label(self) -> str:
        """How messages name the object: Kind/name (runtime on hardware)."""
        if not self.runtime:
            return f"{self.kind}/{self.name}"
        return f"{self.kind}/{self.name} ({self.runtime} on {self.hardware})"


@dataclass
class ClusterRender:
    cluster: str
    platform: str
    entry: str
    objects: list[RenderedObject] = field(default_factory=list)
    # Registries (hosts or host/path prefixes) the cluster may pull from; None: any.
    allowed_registries: tuple[str, ...] | None = None
    # How out/<cluster>/ is delivered (the overlay's `gitops`), if it says.
    delivery: Delivery | None = None
    # The files behind the folder's kustomization.yaml, when not just `entry`.
    origin: tuple[str, ...] = ()

    @property
    def sources(self) -> tuple[str, ...]:
        return self.origin or (self.entry,)
