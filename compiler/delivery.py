"""Delivery: the Argo CD and Flux objects that sync out/<cluster>/ to each cluster.

They depend on every overlay's `gitops` field, not only on the clusters being
built, so a `--target` build reads the other overlays' `gitops` too (lazily:
Jsonnet evaluates that one field, not the cluster's runtimes) and always
rewrites out/argocd/ and out/flux/ as a whole.

Objects are returned as TargetRenders of pseudo-targets named after their
folders, so they go through the same emit / plan / check path (and any later
stage that walks the renders) as the cluster objects.
"""

from __future__ import annotations

import posixpath
from collections import defaultdict
from typing import Any

from compiler.diagnostics import Diagnostic, SourceSpan, error, has_errors
from compiler.engines import get_engine
from compiler.evaluate import evaluate_entry
from compiler.gitops import GitOpsSettings, read_delivery, read_settings
from compiler.model import ArgoCDDelivery, ClusterRender, Delivery, FluxDelivery, Layers, RenderedObject
from compiler.normalize import MANAGED_BY_LABEL, MANAGED_BY_VALUE
from compiler.project import CONFIG_NAME, Project
from compiler.targets import ARGOCD_FOLDER, FLUX_FOLDER, Target

ARGOCD_API = "argoproj.io/v1alpha1"
FLUX_SOURCE_API = "source.toolkit.fluxcd.io/v1"
FLUX_KUSTOMIZE_API = "kustomize.toolkit.fluxcd.io/v1"
# The kinds of the GitOps folders, which are validated like every rendered object.
DELIVERY_KINDS = (
    (ARGOCD_API, "Application"),
    (ARGOCD_API, "ApplicationSet"),
    (FLUX_SOURCE_API, "GitRepository"),
    (FLUX_KUSTOMIZE_API, "Kustomization"),
)
APPLICATION_SET_NAME = "rtc"
# How often Flux polls the Git repository (the Kustomization's own interval is per overlay).
SOURCE_INTERVAL = "5m"


def application_name(cluster: str) -> str:
    return f"rtc-{cluster}"


def flux_kustomization_name(cluster: str) -> str:
    return f"rtc-{cluster}"


def cluster_path(project: Project, settings: GitOpsSettings, cluster: str) -> str:
    """out/<cluster> as a path from the Git repository's root."""
    return posixpath.join(settings.repo_path, project.out_dir_name, cluster)


def collect(
    project: Project,
    all_targets: list[Target],
    rendered: dict[str, Delivery | None],
    engine_name: str,
    settings: GitOpsSettings,
) -> tuple[list[Delivery], list[Diagnostic]]:
    """Every overlay's delivery: from the renders where built, else by evaluating just `gitops`."""
    deliveries: list[Delivery] = []
    diagnostics: list[Diagnostic] = []
    for target in all_targets:
        if target.name in rendered:
            found = rendered[target.name]
        else:
            # The engine is loaded here only when needed: a full build keeps the
            # main process free of engine threads, which a later fork must not inherit.
            snippet = f"(import {posixpath.basename(target.entry)!r}).rtc.gitops"
            engine = get_engine(engine_name)
            evaluated = evaluate_entry(project, target.entry, engine, target=target.name, snippet=snippet)
            if not evaluated.ok and evaluated.diagnostics:
                diagnostics.extend(evaluated.diagnostics)
                diagnostics.append(
                    error(
                        "E303",
                        f"cannot read the gitops field of {target.entry}, which out/{ARGOCD_FOLDER}/ and "
                        f"out/{FLUX_FOLDER}/ depend on, so the build cannot update them",
                        span=SourceSpan(target.entry),
                        target=target.name,
                        hint="fix the overlay, or build it too to see all its errors",
                    )
                )
                continue
            found, problems = read_delivery(project, target.name, target.entry, evaluated.data, settings)
            diagnostics.extend(problems)
        if found is not None:
            deliveries.append(found)
    return deliveries, diagnostics


def render_delivery(
    project: Project, all_targets: list[Target], clusters: list[ClusterRender], engine_name: str
) -> tuple[list[ClusterRender], list[Diagnostic]]:
    """The out/argocd/ and out/flux/ folders (a folder with no objects is left out)."""
    settings, diagnostics = read_settings(project)
    rendered = {c.cluster: c.delivery for c in clusters}
    deliveries, problems = collect(project, all_targets, rendered, engine_name, settings)
    diagnostics.extend(problems)
    if has_errors(diagnostics):
        return [], diagnostics
    argocd = [d for d in deliveries if isinstance(d, ArgoCDDelivery)]
    flux = [d for d in deliveries if isinstance(d, FluxDelivery)]
    folders: list[ClusterRender] = []
    if argocd:
        folders.append(_folder(ARGOCD_FOLDER, argocd_objects(project, settings, argocd)))
    if flux:
        objects, problems = flux_objects(project, settings, flux)
        diagnostics.extend(problems)
        folders.append(_folder(FLUX_FOLDER, objects))
    return folders, diagnostics


def _folder(name: str, objects: list[RenderedObject]) -> ClusterRender:
    sources = sorted({source for obj in objects for source in obj.origin})
    render = ClusterRender(cluster=name, platform="", entry=CONFIG_NAME, origin=tuple(sources))
    render.objects.extend(sorted(objects, key=lambda o: (o.kind, o.namespace or "", o.name)))
    return render


def _object(folder: str, body: dict[str, Any], deliveries: list[Delivery]) -> RenderedObject:
    entries = sorted({d.entry for d in deliveries})
    return RenderedObject(
        cluster=folder,
        runtime="",
        hardware="",
        body=body,
        layers=Layers(runtime="", hardware="", platform="", overlay=entries[0]),
        origin=(*entries, CONFIG_NAME),
    )


def _metadata(name: str, namespace: str) -> dict[str, Any]:
    return {"name": name, "namespace": namespace, "labels": {MANAGED_BY_LABEL: MANAGED_BY_VALUE}}


# Prune what a sync no longer renders, and undo changes made in the cluster.
_SYNC_POLICY = {"automated": {"prune": True, "selfHeal": True}}


def argocd_objects(
    project: Project, settings: GitOpsSettings, deliveries: list[ArgoCDDelivery]
) -> list[RenderedObject]:
    """One Application per `application` cluster; one ApplicationSet per Argo CD namespace for the rest."""
    objects: list[RenderedObject] = []
    by_namespace: dict[str, list[ArgoCDDelivery]] = defaultdict(list)
    for d in sorted(deliveries, key=lambda d: d.cluster):
        if d.mode == "application":
            objects.append(_object(ARGOCD_FOLDER, _application(project, settings, d), [d]))
        else:
            by_namespace[d.namespace].append(d)
    for namespace, members in sorted(by_namespace.items()):
        body = _application_set(project, settings, namespace, members)
        objects.append(_object(ARGOCD_FOLDER, body, list(members)))
    return objects


def _destination(d: ArgoCDDelivery) -> dict[str, str]:
    return {"name": d.destination_name} if d.destination_name else {"server": d.destination_server or ""}


def _application(project: Project, settings: GitOpsSettings, d: ArgoCDDelivery) -> dict[str, Any]:
    return {
        "apiVersion": ARGOCD_API,
        "kind": "Application",
        "metadata": _metadata(application_name(d.cluster), d.namespace),
        "spec": {
            "project": d.project,
            "source": {
                "repoURL": d.repo_url,
                "targetRevision": d.revision,
                "path": cluster_path(project, settings, d.cluster),
            },
            "destination": _destination(d),
            "syncPolicy": _SYNC_POLICY,
        },
    }


def _application_set(
    project: Project, settings: GitOpsSettings, namespace: str, members: list[ArgoCDDelivery]
) -> dict[str, Any]:
    """A list generator over the clusters; the template reads each element.

    Argo CD takes a destination by name or by server, never both. When the
    clusters use only one kind, the template has only that field; when they
    mix, each element leaves the other one "" (Argo CD's Go types drop empty
    strings, so "" reads as unset).
    """
    uses_name = any(d.destination_name for d in members)
    uses_server = any(d.destination_server for d in members)
    elements = []
    for d in members:
        element = {
            "cluster": d.cluster,
            "path": cluster_path(project, settings, d.cluster),
            "project": d.project,
            "repoURL": d.repo_url,
            "revision": d.revision,
        }
        if uses_name:
            element["destinationName"] = d.destination_name or ""
        if uses_server:
            element["destinationServer"] = d.destination_server or ""
        elements.append(element)
    destination = {}
    if uses_name:
        destination["name"] = "{{.destinationName}}"
    if uses_server:
        destination["server"] = "{{.destinationServer}}"
    return {
        "apiVersion": ARGOCD_API,
        "kind": "ApplicationSet",
        "metadata": _metadata(APPLICATION_SET_NAME, namespace),
        "spec": {
            "goTemplate": True,
            "goTemplateOptions": ["missingkey=error"],
            "generators": [{"list": {"elements": elements}}],
            "template": {
                "metadata": {
                    "name": application_name("{{.cluster}}"),
                    "labels": {MANAGED_BY_LABEL: MANAGED_BY_VALUE},
                },
                "spec": {
                    "project": "{{.project}}",
                    "source": {"repoURL": "{{.repoURL}}", "targetRevision": "{{.revision}}", "path": "{{.path}}"},
                    "destination": destination,
                    "syncPolicy": _SYNC_POLICY,
                },
            },
        },
    }


def flux_objects(
    project: Project, settings: GitOpsSettings, deliveries: list[FluxDelivery]
) -> tuple[list[RenderedObject], list[Diagnostic]]:
    """One GitRepository per (namespace, source), one Kustomization per cluster."""
    objects: list[RenderedObject] = []
    diagnostics: list[Diagnostic] = []
    sources: dict[tuple[str, str], list[FluxDelivery]] = defaultdict(list)
    for d in sorted(deliveries, key=lambda d: d.cluster):
        sources[(d.namespace, d.source)].append(d)
    for (namespace, name), members in sorted(sources.items()):
        first = members[0]
        for other in members[1:]:
            if (other.repo_url, other.revision) != (first.repo_url, first.revision):
                diagnostics.append(
                    error(
                        "E302",
                        f"Flux clusters {first.cluster} and {other.cluster} share GitRepository {namespace}/{name} "
                        f"but disagree on it: {first.repo_url}@{first.revision} vs {other.repo_url}@{other.revision}",
                        span=SourceSpan(other.entry),
                        target=other.cluster,
                        related=(SourceSpan(first.entry),),
                        hint="give one of them another source: rtc.flux { source: '...' }",
                    )
                )
        objects.append(_object(FLUX_FOLDER, _git_repository(namespace, name, first), list(members)))
    for d in sorted(deliveries, key=lambda d: d.cluster):
        objects.append(_object(FLUX_FOLDER, _flux_kustomization(project, settings, d), [d]))
    return objects, diagnostics


def _git_reference(revision: str) -> dict[str, str]:
    """Argo CD takes any revision as one string; Flux wants to know its kind."""
    if len(revision) == 40 and all(c in "0123456789abcdef" for c in revision):
        return {"commit": revision}
    if revision.startswith("refs/"):
        return {"name": revision}
    return {"branch": revision}


def _git_repository(namespace: str, name: str, d: FluxDelivery) -> dict[str, Any]:
    return {
        "apiVersion": FLUX_SOURCE_API,
        "kind": "GitRepository",
        "metadata": _metadata(name, namespace),
        "spec": {"interval": SOURCE_INTERVAL, "url": d.repo_url, "ref": _git_reference(d.revision)},
    }


def _flux_kustomization(project: Project, settings: GitOpsSettings, d: FluxDelivery) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "interval": d.interval,
        "path": "./" + cluster_path(project, settings, d.cluster),
        "prune": True,
        "sourceRef": {"kind": "GitRepository", "name": d.source},
    }
    if d.kube_config_secret:
        spec["kubeConfig"] = {"secretRef": {"name": d.kube_config_secret}}
    return {
        "apiVersion": FLUX_KUSTOMIZE_API,
        "kind": "Kustomization",
        "metadata": _metadata(flux_kustomization_name(d.cluster), d.namespace),
        "spec": spec,
    }
