"""Targets: one per cluster overlay (overlays/<cluster>.jsonnet)."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from compiler.diagnostics import Diagnostic, SourceSpan, error
from compiler.project import Project

OVERLAY_SUFFIX = ".jsonnet"
# A cluster name becomes a folder under out/ and a Kubernetes label value: a DNS-1123 label.
CLUSTER_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
# Folders of out/ that hold the GitOps objects (compiler/delivery.py), not a cluster.
ARGOCD_FOLDER, FLUX_FOLDER = "argocd", "flux"
DELIVERY_FOLDERS = (ARGOCD_FOLDER, FLUX_FOLDER)


@dataclass(frozen=True, order=True)
class Target:
    name: str
    entry: str  # repository-relative path of the overlay file


def discover(project: Project) -> tuple[list[Target], list[Diagnostic]]:
    targets: list[Target] = []
    diagnostics: list[Diagnostic] = []
    overlays = project.overlays_dir
    if not overlays.is_dir():
        return [], [error("E001", "no overlays/ folder: nothing to build", span=SourceSpan(project.relative(overlays)))]
    for path in sorted(overlays.iterdir()):
        if path.suffix != OVERLAY_SUFFIX or not path.is_file():
            continue
        name = path.name[: -len(OVERLAY_SUFFIX)]
        entry = f"overlays/{path.name}"
        if not CLUSTER_NAME.match(name):
            diagnostics.append(
                error(
                    "E002",
                    f"overlay file name {path.name!r} is not a valid cluster name",
                    span=SourceSpan(entry),
                    hint="a cluster name is lower-case letters, digits and '-', at most 63 characters, "
                    "starting and ending with a letter or digit",
                )
            )
            continue
        if name in DELIVERY_FOLDERS:
            diagnostics.append(
                error(
                    "E004",
                    f"a cluster cannot be named {name!r}: out/{name}/ holds the GitOps objects rtc generates",
                    span=SourceSpan(entry),
                    hint=f"rename the overlay (e.g. overlays/{name}-cluster.jsonnet)",
                )
            )
            continue
        targets.append(Target(name=name, entry=entry))
    return targets, diagnostics


def select(project: Project, names: tuple[str, ...]) -> tuple[list[Target], list[Diagnostic]]:
    """All targets, or the named ones; an unknown name is an error with the closest match."""
    targets, diagnostics = discover(project)
    if not names:
        return targets, diagnostics
    by_name = {t.name: t for t in targets}
    chosen: list[Target] = []
    for name in names:
        if name in by_name:
            if by_name[name] not in chosen:
                chosen.append(by_name[name])
            continue
        close = difflib.get_close_matches(name, by_name, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"targets: {', '.join(sorted(by_name)) or 'none'}"
        diagnostics.append(error("E003", f"no target named {name!r} (no overlays/{name}.jsonnet)", hint=hint))
    return sorted(chosen), diagnostics
