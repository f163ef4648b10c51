"""Platform profiles: what a platform expects of a runtime, for the rules.

The platform of a cluster is its overlay's `platform:` layer (its name is in
the rtc output); manifests linted without --target use rtc.toml's
[lint] platform (default "alauda"). A platform rtc has no profile for is
linted with the upstream KServe profile, the strictest about placeholders.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class PlatformProfile:
    name: str
    # Labels and annotations every runtime must carry (the platform's UI reads them).
    required_labels: tuple[str, ...] = ()
    required_annotations: tuple[str, ...] = ()
    # The accelerator label, its allowed values with the version label each needs
    # (None: no version), and the other spellings rtc recognises and corrects.
    accelerator_label: str | None = None
    version_label: str = "{kind}-version"
    accelerators: dict[str, str | None] = field(default_factory=dict)
    synonyms: dict[str, str] = field(default_factory=dict)
    # InferenceService annotations the platform sets on every service it creates.
    platform_annotations: tuple[str, ...] = ()
    # True: KServe parses placeholders over the container's JSON text
    # (upstream html/template), where a double quote inside {{ }} breaks.
    json_templates: bool = True

    def with_annotations(self, annotations: tuple[str, ...]) -> PlatformProfile:
        return replace(self, platform_annotations=annotations)


ALAUDA = PlatformProfile(
    name="alauda",
    required_labels=("cpaas.io/runtime-class",),
    required_annotations=("cpaas.io/display-name",),
    accelerator_label="cpaas.io/accelerator-type",
    version_label="cpaas.io/{kind}-version",
    accelerators={"nvidia": "cuda", "ascend": "cann", "amd": "rocm", "cpu": None},
    synonyms={"npu": "ascend", "huawei": "ascend", "gpu": "nvidia", "cuda": "nvidia", "rocm": "amd"},
    platform_annotations=("aml-model-repo", "aml-pipeline-tag"),
    # The vendor documents the double-quoted form ({{ index .Annotations "aml-model-repo" }})
    # and its platform's own substitution is not public: stay permissive there.
    json_templates=False,
)

KSERVE = PlatformProfile(name="kserve")

PROFILES = {profile.name: profile for profile in (ALAUDA, KSERVE)}


def profile_for(platform: str) -> PlatformProfile:
    """The profile of `platform`; unknown platforms get upstream KServe's rules under their own name."""
    known = PROFILES.get(platform)
    return known if known is not None else replace(KSERVE, name=platform)
