"""Images: pinned, and pulled only from where the cluster may pull."""

from __future__ import annotations

from collections.abc import Iterator

from compiler.rules.k8s import containers_of, parse_image
from compiler.rules.registry import RUNTIME_KINDS, SERVICE_KINDS, Finding, LintContext, Subject, rule


@rule(id="RTC201", summary="Images are pinned to a version tag or a digest", kinds=RUNTIME_KINDS + SERVICE_KINDS)
def pinned_images(subject: Subject, context: LintContext) -> Iterator[Finding]:
    """Every container image names a fixed version: a tag that is not a moving
    one, or a digest (`@sha256:…`).

    An image without a tag means `:latest`. A moving tag (by default only
    `latest`; set `[lint] moving-tags` in rtc.toml to add e.g. `nightly`,
    `fast`) changes under a runtime without a commit: two nodes can run
    different servers, and a rollback in Git does not roll the server back.
    A digest pins exactly; KServe also never rewrites a digest-pinned image
    (its `-gpu`/`-cpu` tag rewrite skips them).
    """
    moving = set(context.options.moving_tags)
    for container in containers_of(subject.body):
        image = container.body.get("image")
        if not isinstance(image, str) or not image:
            continue
        ref = parse_image(image)
        if ref.digest:
            continue
        if ref.tag is None:
            yield Finding(container.at("image"), f"image {image} has no tag, so it means :latest; pin a version tag")
        elif ref.tag in moving:
            yield Finding(
                container.at("image"),
                f"image {image} uses the moving tag {ref.tag!r}; pin a version tag or a digest",
            )


def _allowed(name: str, host: str, allowed: tuple[str, ...]) -> bool:
    for entry in allowed:
        prefix = entry.rstrip("/")
        if host == prefix or name == prefix or name.startswith(prefix + "/"):
            return True
    return False


@rule(
    id="RTC202",
    summary="Images come from the cluster's allowed registries",
    kinds=RUNTIME_KINDS + SERVICE_KINDS,
)
def allowed_registries(subject: Subject, context: LintContext) -> Iterator[Finding]:
    """On a cluster that declares its registries, every image comes from one of them.

    An air-gapped cluster reaches only its mirror: an image from anywhere else
    fails with ImagePullBackOff on the first pod, long after the merge. The
    overlay declares the registries (hosts, or host/path prefixes):

    ```jsonnet
    rtc.cluster {
      name: 'prod-airgap',
      allowedRegistries: ['registry.prod.internal/mirror'],
      patches: [rtc.patch.mirrorImages('registry.prod.internal/mirror')],
    }
    ```

    Short names are resolved as the container runtime does (`vllm/vllm-openai`
    is `docker.io/vllm/vllm-openai`). A cluster without `allowedRegistries`
    may pull from anywhere; with `rtc lint PATH --target NAME` the target
    cluster's list applies to the files.
    """
    allowed = context.allowed_registries
    if allowed is None:
        return
    for container in containers_of(subject.body):
        image = container.body.get("image")
        if not isinstance(image, str) or not image:
            continue
        ref = parse_image(image)
        if not _allowed(ref.name, ref.host, allowed):
            where = f"cluster {context.cluster}" if context.cluster else "this cluster"
            yield Finding(
                container.at("image"),
                f"image {image} is pulled from {ref.host}, which {where} may not pull from "
                f"(allowed: {', '.join(allowed)})",
                hint="mirror the image (rtc.patch.mirrorImages) or add its registry to allowedRegistries",
            )
