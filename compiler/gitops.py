"""GitOps settings: each overlay's `gitops` field, rtc.toml's [gitops] table,
and the Flux substitution guard on the objects of Flux clusters.

An overlay says where its cluster is and which engine syncs it:

    gitops: rtc.argocd { repoURL: '...', destination: { name: 'demo' } }
    gitops: rtc.flux { repoURL: '...', kubeConfigSecret: 'prod-kubeconfig' }

The checks here are the ones whose failure would otherwise surface only in the
cluster (a typo'd key silently ignored, a bad interval rejected by the API
server); compiler/delivery.py turns the checked settings into objects.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

from compiler.diagnostics import Diagnostic, SourceSpan, error
from compiler.evaluate import read_source_text
from compiler.model import ArgoCDDelivery, ClusterRender, Delivery, FluxDelivery
from compiler.normalize import name_problem
from compiler.project import CONFIG_NAME, Project
from compiler.targets import Target

ARGOCD_MODES = ("applicationset", "application")
DEFAULT_ARGOCD_MODE = "applicationset"
# kustomize-controller skips post-build substitution for objects carrying this
# label or annotation with the value "disabled".
SUBSTITUTE_KEY = "kustomize.toolkit.fluxcd.io/substitute"
SUBSTITUTE_DISABLED = "disabled"
# Flux's envsubst expands only the braced form ${...}; a bare $VAR is left alone.
_FLUX_VARIABLE = "${"
# The Flux CRD's pattern for spec.interval (a Go duration).
_INTERVAL = re.compile(r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$")

_COMMON_KEYS = ("engine", "repoURL", "revision", "namespace")
_KEYS = {
    "argocd": (*_COMMON_KEYS, "destination", "project", "mode"),
    "flux": (*_COMMON_KEYS, "kubeConfigSecret", "source", "interval"),
}


@dataclass(frozen=True)
class GitOpsSettings:
    """rtc.toml's [gitops] table."""

    # How Argo CD clusters without their own `mode` are delivered.
    argocd_mode: str = DEFAULT_ARGOCD_MODE
    # Where rtc.toml's folder sits inside the Git repository Argo CD / Flux
    # clone ("" = the repository root); paths in the objects start with it.
    repo_path: str = ""


def read_settings(project: Project) -> tuple[GitOpsSettings, list[Diagnostic]]:
    table = project.settings.get("gitops", {})
    span = SourceSpan(CONFIG_NAME)
    if not isinstance(table, dict):
        return GitOpsSettings(), [error("E310", "[gitops] must be a table", span=span)]
    diagnostics: list[Diagnostic] = []
    known = ("argocd-mode", "path")
    for key in table:
        if key not in known:
            diagnostics.append(error("E310", f"[gitops] has no setting {key!r}", span=span, hint=_closest(key, known)))
    mode = table.get("argocd-mode", DEFAULT_ARGOCD_MODE)
    if mode not in ARGOCD_MODES:
        diagnostics.append(
            error(
                "E310",
                f"[gitops] argocd-mode must be one of {', '.join(map(repr, ARGOCD_MODES))}, got {mode!r}",
                span=span,
            )
        )
        mode = DEFAULT_ARGOCD_MODE
    path = table.get("path", "")
    if not isinstance(path, str) or path.startswith("/") or ".." in path.split("/"):
        diagnostics.append(
            error("E310", f"[gitops] path must be a relative folder inside the repository, got {path!r}", span=span)
        )
        path = ""
    return GitOpsSettings(argocd_mode=mode, repo_path=path.strip("/")), diagnostics


def read_delivery(
    project: Project, cluster: str, entry: str, value: Any, settings: GitOpsSettings
) -> tuple[Delivery | None, list[Diagnostic]]:
    """Check one overlay's `gitops` value (None when the overlay sets none)."""
    if value is None:
        return None, []
    span = _field_span(project, entry, "gitops")
    problems = _Problems(span, cluster)
    if not isinstance(value, dict):
        problems.add(f"gitops must be rtc.argocd {{...}} or rtc.flux {{...}}, got {type(value).__name__}")
        return None, problems.found
    engine = value.get("engine")
    if engine not in _KEYS:
        problems.add(
            f"gitops.engine must be 'argocd' or 'flux', got {engine!r}",
            hint="start from rtc.argocd { ... } or rtc.flux { ... }, which set it",
        )
        return None, problems.found
    for key in sorted(value):
        if key not in _KEYS[engine]:
            problems.add(f"gitops has no field {key!r} for {engine}", hint=_closest(key, _KEYS[engine]))
    # What both engines have, as the delivery classes name it.
    common: dict[str, Any] = {
        "cluster": cluster,
        "entry": entry,
        "repo_url": problems.text(value, "repoURL"),
        "revision": problems.text(value, "revision"),
        "namespace": problems.name(value, "namespace", label=True),
    }
    delivery = _argocd(value, common, settings, problems) if engine == "argocd" else _flux(value, common, problems)
    return (None, problems.found) if problems.found else (delivery, [])


def _argocd(value: dict[str, Any], common: dict[str, Any], settings: GitOpsSettings, problems: _Problems) -> Delivery:
    mode = value.get("mode")
    if mode is None:
        mode = settings.argocd_mode
    elif mode not in ARGOCD_MODES:
        problems.add(f"gitops.mode must be one of {', '.join(map(repr, ARGOCD_MODES))} or null, got {mode!r}")
    destination = value.get("destination")
    name = server = None
    if not isinstance(destination, dict) or sorted(destination) not in (["name"], ["server"]):
        problems.add(
            f"gitops.destination must be {{ name: ... }} or {{ server: ... }}, got {destination!r}",
            hint="name: the cluster's name in Argo CD; server: its API server URL",
        )
    else:
        name = problems.text(destination, "name", where="gitops.destination") if "name" in destination else None
        server = problems.text(destination, "server", where="gitops.destination") if "server" in destination else None
    return ArgoCDDelivery(
        **common,
        project=problems.text(value, "project"),
        mode=mode,
        destination_name=name,
        destination_server=server,
    )


def _flux(value: dict[str, Any], common: dict[str, Any], problems: _Problems) -> Delivery:
    interval = problems.text(value, "interval")
    if interval and not _INTERVAL.match(interval):
        problems.add(f"gitops.interval {interval!r} is not a duration such as '10m', '1h' or '90s'")
    secret = value.get("kubeConfigSecret")
    return FluxDelivery(
        **common,
        source=problems.name(value, "source"),
        interval=interval,
        kube_config_secret=None if secret is None else problems.name(value, "kubeConfigSecret"),
    )


class _Problems:
    """Collects one overlay's gitops findings, all pointing at its `gitops` line."""

    def __init__(self, span: SourceSpan, cluster: str) -> None:
        self.span = span
        self.cluster = cluster
        self.found: list[Diagnostic] = []

    def add(self, message: str, *, hint: str | None = None) -> None:
        self.found.append(error("E301", message, span=self.span, target=self.cluster, hint=hint))

    def text(self, value: dict[str, Any], key: str, *, where: str = "gitops") -> str:
        item = value.get(key)
        if not isinstance(item, str) or not item.strip():
            self.add(f"{where}.{key} must be a non-empty string, got {item!r}")
            return ""
        return item

    def name(self, value: dict[str, Any], key: str, *, label: bool = False) -> str:
        item = value.get(key)
        problem = name_problem(item, label=label)
        if problem:
            self.add(f"gitops.{key} {item!r} {problem}")
            return ""
        return str(item)


def _closest(key: str, known: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(key, known, n=1)
    return f"did you mean {close[0]!r}?" if close else f"known fields: {', '.join(known)}"


def _field_span(project: Project, entry: str, key: str) -> SourceSpan:
    """Where `key:` is written in the overlay, or just the file."""
    text = read_source_text(project, entry) or ""
    pattern = re.compile(r"^\s*" + re.escape(key) + r"\s*:")
    for number, line in enumerate(text.splitlines(), start=1):
        if pattern.match(line):
            return SourceSpan(entry, number, line.index(key) + 1)
    return SourceSpan(entry)


def read_cluster_delivery(
    project: Project, target: Target, data: dict[str, Any], cluster: ClusterRender
) -> list[Diagnostic]:
    """Set `cluster.delivery` from the evaluated overlay and guard a Flux cluster's objects."""
    settings, _ = read_settings(project)  # its problems are reported once, by compiler/delivery.py
    cluster.delivery, problems = read_delivery(project, target.name, target.entry, data["rtc"].get("gitops"), settings)
    guard_flux_substitution(cluster)
    return problems


def guard_flux_substitution(cluster: ClusterRender) -> None:
    """Mark every object of a Flux cluster that contains `${` so Flux leaves it alone.

    A Flux Kustomization with spec.postBuild runs envsubst over each object's
    YAML: `${MODEL_PATH}` in a startup script would become "" (an unset
    variable) and the script would break silently. An object that already
    carries the annotation or label, with any value, is left as the author set it.
    """
    if not isinstance(cluster.delivery, FluxDelivery):
        return
    for obj in cluster.objects:
        metadata = obj.body["metadata"]
        labels = metadata.get("labels") or {}
        annotations = metadata.get("annotations") or {}
        if SUBSTITUTE_KEY in labels or SUBSTITUTE_KEY in annotations or not _mentions_variable(obj.body):
            continue
        metadata["annotations"] = {**annotations, SUBSTITUTE_KEY: SUBSTITUTE_DISABLED}


def _mentions_variable(value: Any) -> bool:
    if isinstance(value, str):
        return _FLUX_VARIABLE in value
    if isinstance(value, dict):
        return any(_mentions_variable(k) or _mentions_variable(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_mentions_variable(v) for v in value)
    return False
