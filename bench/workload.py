"""A synthetic fleet-scale catalog, written in the project's own Jsonnet style.

N runtimes x M hardware profiles x K clusters: every runtime supports every
profile (one image each); a cluster offers a block of `runtimes_per_cluster`
runtimes on `hardware_per_cluster` profiles, importing those files directly
(as overlays/prod-airgap.jsonnet does), so an edit to one runtime rebuilds
only the clusters that offer it. Each runtime has its own ~60-line startup
script brought in with importstr. The real catalog/lib is copied in, so the
workload always exercises the library as it is now.

Beside the catalog it writes the equivalent Kapitan inventory: one target per
cluster compiling the same overlay's objects to YAML.

    python -m bench.workload --scale medium DEST
"""

from __future__ import annotations

import argparse
import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VERSION_LINE = "local version = '{}';"
MEMORY_LINE = "rtc.patch.resources(rtc.resources(cpu=8, memory='{}')),"


@dataclass(frozen=True)
class Scale:
    name: str
    runtimes: int
    hardware: int
    clusters: int
    runtimes_per_cluster: int
    hardware_per_cluster: int

    @property
    def objects(self) -> int:
        return self.clusters * self.runtimes_per_cluster * self.hardware_per_cluster


SCALES = {
    "small": Scale("small", runtimes=24, hardware=6, clusters=6, runtimes_per_cluster=8, hardware_per_cluster=4),
    "medium": Scale("medium", runtimes=80, hardware=12, clusters=24, runtimes_per_cluster=16, hardware_per_cluster=5),
    "large": Scale("large", runtimes=160, hardware=16, clusters=120, runtimes_per_cluster=32, hardware_per_cluster=5),
}


@dataclass(frozen=True)
class Profile:
    name: str
    family: str
    version_kind: str
    version: str
    resource_key: str
    suffix: str
    selector: tuple[str, str]


# Interleaved so that every scale mixes families.
PROFILES = (
    Profile(
        "nvidia-cuda-12.1",
        "nvidia",
        "cuda",
        "12.1",
        "nvidia.com/gpu",
        "cuda-12.1",
        ("nvidia.com/cuda.runtime.major", "12"),
    ),
    Profile("cpu-x86", "cpu", "", "", "", "cpu", ("kubernetes.io/arch", "amd64")),
    Profile(
        "ascend-910b4",
        "ascend",
        "cann",
        "8.5.1",
        "huawei.com/Ascend910B4",
        "cann-8.5.1",
        ("accelerator/huawei-npu", "ascend-910b4"),
    ),
    Profile(
        "nvidia-cuda-11.8",
        "nvidia",
        "cuda",
        "11.8",
        "nvidia.com/gpu",
        "cuda-11.8",
        ("nvidia.com/cuda.runtime.major", "11"),
    ),
    Profile("amd-rocm-6.2", "amd", "rocm", "6.2", "amd.com/gpu", "rocm-6.2", ("amd.com/gpu.family", "MI300")),
    Profile(
        "nvidia-cuda-12.4",
        "nvidia",
        "cuda",
        "12.4",
        "nvidia.com/gpu",
        "cuda-12.4",
        ("nvidia.com/cuda.runtime.major", "12"),
    ),
    Profile(
        "ascend-310p",
        "ascend",
        "cann",
        "8.3.0",
        "huawei.com/Ascend310P",
        "310p",
        ("accelerator/huawei-npu", "ascend-310p"),
    ),
    Profile("cpu-arm64", "cpu", "", "", "", "cpu-arm64", ("kubernetes.io/arch", "arm64")),
    Profile(
        "nvidia-cuda-12.6",
        "nvidia",
        "cuda",
        "12.6",
        "nvidia.com/gpu",
        "cuda-12.6",
        ("nvidia.com/cuda.runtime.major", "12"),
    ),
    Profile("amd-rocm-6.4", "amd", "rocm", "6.4", "amd.com/gpu", "rocm-6.4", ("amd.com/gpu.family", "MI325")),
    Profile(
        "nvidia-cuda-12.8",
        "nvidia",
        "cuda",
        "12.8",
        "nvidia.com/gpu",
        "cuda-12.8",
        ("nvidia.com/cuda.runtime.major", "12"),
    ),
    Profile(
        "ascend-910b3",
        "ascend",
        "cann",
        "8.2.0",
        "huawei.com/Ascend910B3",
        "cann-8.2.0",
        ("accelerator/huawei-npu", "ascend-910b3"),
    ),
    Profile(
        "nvidia-cuda-13.0",
        "nvidia",
        "cuda",
        "13.0",
        "nvidia.com/gpu",
        "cuda-13.0",
        ("nvidia.com/cuda.runtime.major", "13"),
    ),
    Profile(
        "nvidia-cuda-12.2",
        "nvidia",
        "cuda",
        "12.2",
        "nvidia.com/gpu",
        "cuda-12.2",
        ("nvidia.com/cuda.runtime.major", "12"),
    ),
    Profile(
        "ascend-910c",
        "ascend",
        "cann",
        "8.5.1",
        "huawei.com/Ascend910C",
        "910c",
        ("accelerator/huawei-npu", "ascend-910c"),
    ),
    Profile("amd-rocm-6.3", "amd", "rocm", "6.3", "amd.com/gpu", "rocm-6.3", ("amd.com/gpu.family", "MI250")),
)

ENGINES = ("vllm", "triton", "mlserver", "xinference")


def runtime_name(index: int) -> str:
    return f"{ENGINES[index % len(ENGINES)]}-{index + 1:03d}"


def cluster_name(index: int) -> str:
    return f"fleet-{index + 1:03d}"


def cluster_runtimes(scale: Scale, cluster: int) -> list[int]:
    start = cluster * scale.runtimes_per_cluster
    return [(start + j) % scale.runtimes for j in range(scale.runtimes_per_cluster)]


def cluster_profiles(scale: Scale, cluster: int) -> list[Profile]:
    return [PROFILES[(cluster + j) % scale.hardware] for j in range(scale.hardware_per_cluster)]


# ---------------------------------------------------------------- hardware


def hardware_file(profile: Profile) -> str:
    key, value = profile.selector
    if profile.family == "cpu":
        accelerator, resource = "null", "null"
        tolerations = ""
    else:
        accelerator = (
            f"{{ type: '{profile.family}', versionKind: '{profile.version_kind}', version: '{profile.version}' }}"
        )
        resource = f"'{profile.resource_key}'"
        tolerations = (
            f"      tolerations+: [{{ key: '{profile.resource_key}', operator: 'Exists', effect: 'NoSchedule' }}],\n"
        )
    return (
        f"// {profile.name}: synthetic bench hardware profile ({profile.family}).\n"
        "local rtc = import 'catalog/lib/rtc.libsonnet';\n"
        "\n"
        "rtc.hardware {\n"
        f"  name: '{profile.name}',\n"
        f"  family: '{profile.family}',\n"
        f"  accelerator: {accelerator},\n"
        f"  resourceKey: {resource},\n"
        f"  nameSuffix: '{profile.suffix}',\n"
        "  // Schedule onto the nodes that have this accelerator.\n"
        "  patch(obj):: obj {\n"
        "    spec+: {\n"
        f"      nodeSelector+: {{ '{key}': '{value}' }},\n"
        f"{tolerations}"
        "    },\n"
        "  },\n"
        "}\n"
    )


# ---------------------------------------------------------------- runtimes


def startup_script(name: str, engine: str, index: int) -> str:
    """A ~60-line startup script, different for every runtime."""
    port = 8080
    launch = {
        "vllm": f'exec python3 -m vllm.entrypoints.openai.api_server --port {port} --model "${{MODEL_PATH}}" \\\n'
        '  --served-model-name "{{.Name}}" --gpu-memory-utilization "${GPU_MEMORY_UTILIZATION}" "$@"',
        "triton": f'exec tritonserver --model-repository="${{MODEL_PATH}}" --http-port={port} \\\n'
        '  --allow-grpc=false --strict-readiness=true "$@"',
        "mlserver": 'exec mlserver start "${MLSERVER_MODEL_URI}"',
        "xinference": f"exec xinference-local --host 0.0.0.0 --port {port}",
    }[engine]
    lines = [
        "#!/usr/bin/env bash",
        f"# {name}: start the {engine} server for one InferenceService (synthetic bench runtime {index + 1}).",
        "# The storage initializer put the model under /mnt/models; arguments of the",
        "# InferenceService are passed on to the server.",
        "set -eu",
        "",
        'log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }',
        "",
        "# a. the git-lfs storage initializer puts the model in /mnt/models/<model_name>",
        "# b. the Hugging Face storage initializer puts it in /mnt/models",
        'MODEL_DIR="/mnt/models/${MODEL_NAME:-}"',
        'if [ ! -d "${MODEL_DIR}" ]; then',
        '  log "model directory ${MODEL_DIR} not found, using /mnt/models instead"',
        '  MODEL_DIR="/mnt/models"',
        "fi",
        'MODEL_PATH="${MODEL_DIR}"',
        "export MODEL_PATH",
        "",
        "require() {",
        '  for var in "$@"; do',
        '    if [ -z "${!var:-}" ]; then',
        '      log "need to set ${var}"',
        "      exit 1",
        "    fi",
        "  done",
        "}",
        "require MODEL_PATH HOME",
        "",
        "# Refuse a model directory without weights: the server would start and",
        "# then answer every request with an error.",
        "weights=0",
        'for pattern in "*.safetensors" "*.bin" "*.gguf" "*.onnx" "*.plan"; do',
        '  count=$(find "${MODEL_PATH}" -maxdepth 2 -type f -name "${pattern}" | wc -l)',
        "  weights=$((weights + count))",
        "done",
        'if [ "${weights}" -eq 0 ]; then',
        '  log "no model weights under ${MODEL_PATH}"',
        "  exit 1",
        "fi",
        'log "found ${weights} weight files under ${MODEL_PATH}"',
        "",
        "# Caches go to a writable place: the image's HOME may be read-only.",
        'export XDG_CACHE_HOME="${HOME}/.cache"',
        'mkdir -p "${XDG_CACHE_HOME}"',
        "",
        "# Threads: one per requested CPU, at least one.",
        'cpus="${CPU_LIMIT:-2}"',
        'if [ "${cpus}" -lt 1 ]; then cpus=1; fi',
        'export OMP_NUM_THREADS="${cpus}"',
        "",
        f"# Revision {index % 7}: print what is about to run, for the pod log.",
        f'log "starting {engine} for {{{{.Name}}}} in {{{{.Namespace}}}} (runtime {name})"',
        'log "model: ${MODEL_PATH}"',
        'log "threads: ${OMP_NUM_THREADS}"',
        "if command -v nvidia-smi >/dev/null 2>&1; then nvidia-smi -L || true; fi",
        "if command -v npu-smi >/dev/null 2>&1; then npu-smi info || true; fi",
        "",
        launch,
    ]
    return "\n".join(lines) + "\n"


def runtime_file(name: str, engine: str, index: int, scale: Scale) -> str:
    profiles = PROFILES[: scale.hardware]
    major = 1 + index % 3
    images = "\n".join(
        f"    '{p.name}': 'registry.example.com/{engine}/{name}:v' + version + '-{p.suffix}'," for p in profiles
    )
    spec_extra, container_extra, requirements = "", "", ""
    probe_path = "'/v1/models'"
    if engine == "vllm":
        spec_extra = "    protocolVersions: ['v2'],\n"
        container_extra = (
            "      ports: [{ containerPort: 8080, name: 'http1', protocol: 'TCP' }],\n"
            "      volumeMounts: [shm.mount],\n"
        )
        requirements = "  requirements: { env: ['HOME'] },\n"
    elif engine == "triton":
        probe_path = "'/v2/models/%s/ready' % rtc.annotation('aml-model-repo')"
    elif engine == "mlserver":
        spec_extra = "    labels: { modelClass: 'mlserver_sklearn.SKLearnModel' },\n"
    else:
        requirements = "  requirements: { env: ['MODEL_FAMILY'] },\n"
    volumes = "    volumes: [shm.volume],\n" if engine == "vllm" else ""
    return f"""// {name}: synthetic bench runtime ({engine}), in the catalog's style.
local rtc = import 'catalog/lib/rtc.libsonnet';
local shm = rtc.shm('8Gi');
{VERSION_LINE.format(f"{major}.{index % 10}.0")}

rtc.runtime {{
  name: '{name}',
  runtimeClass: '{engine}',
  images: {{
{images}
  }},
  annotations: {{
    'aml.cpaas.io/model-type': '["generative"]',
  }},
{requirements}  // Ascend NPUs: pick the first card the device plugin handed over.
  variants: {{
    ascend: {{
      spec+: {{
        containers: [c {{ env+: [{{ name: 'ASCEND_RT_VISIBLE_DEVICES', value: '0' }}] }} for c in super.containers],
      }},
    }},
  }},
  spec: {{
{spec_extra}    // Selected by name: the platform writes the runtime's name into each InferenceService.
    supportedModelFormats: [{{ name: 'transformers', version: '1', autoSelect: false }}],
    containers: [{{
      name: rtc.kserveContainer,
      command: ['bash', '-c', importstr 'startup.sh', 'bash'],
      env: [
        {{ name: 'MODEL_NAME', value: rtc.annotation('aml-model-repo') }},
        {{ name: 'GPU_MEMORY_UTILIZATION', value: '0.9' }},
        {{ name: 'HOME', value: '/tmp' }},
        {{ name: 'MODEL_FAMILY', value: '' }},
      ],
      resources: rtc.resources(cpu=2, memory='6Gi'),
      securityContext: rtc.restricted(1000) {{ seccompProfile: {{ type: 'RuntimeDefault' }} }},
      startupProbe: {{
        httpGet: {{ path: {probe_path}, port: 8080, scheme: 'HTTP' }},
        failureThreshold: 60,
        periodSeconds: 10,
        timeoutSeconds: 10,
      }},
{container_extra}    }}],
{volumes}  }},
}}
"""


# ---------------------------------------------------------------- clusters


def overlay_file(scale: Scale, cluster: int) -> str:
    name = cluster_name(cluster)
    runtimes = "\n".join(
        f"  import 'catalog/{runtime_name(i)}/main.libsonnet'," for i in cluster_runtimes(scale, cluster)
    )
    hardware = "\n".join(f"  import 'hardware/{p.name}.libsonnet'," for p in cluster_profiles(scale, cluster))
    platform = "alauda"  # the runtimes read Alauda annotations (rtc lint RTC402 elsewhere)
    namespace = "  runtimeNamespace:: 'ai-runtimes',\n" if cluster % 5 == 4 else ""
    environment = "production" if cluster % 3 else "staging"
    mirror = f"mirror.{name}.internal/cache"
    if cluster % 2 == 0:
        registries = f"  // The only registry the cluster reaches.\n  allowedRegistries: ['{mirror}'],\n"
        patch = f"    rtc.patch.mirrorImages('{mirror}'),\n"
    else:
        registries = patch = ""
    gitops = (
        "  gitops: rtc.argocd {\n"
        "    repoURL: 'https://git.example.com/platform/ai-runtime-catalog.git',\n"
        "    revision: 'main',\n"
        f"    destination: {{ name: '{name}' }},\n"
        "  },\n"
        if cluster % 3
        else "  gitops: rtc.flux {\n"
        "    repoURL: 'https://git.example.com/platform/ai-runtime-catalog.git',\n"
        "    revision: 'main',\n"
        "  },\n"
    )
    return f"""// {name}: synthetic bench cluster ({environment}).
local rtc = import 'catalog/lib/rtc.libsonnet';

local runtimes = [
{runtimes}
];
local hardware = [
{hardware}
];

rtc.cluster {{
  name: '{name}',
  platform: rtc.platforms.{platform},
{namespace}  deployments: [rtc.deploy(rt, hw) for rt in runtimes for hw in hardware],
{registries}  patches: [
{patch}    {MEMORY_LINE.format("32Gi")}
    rtc.patch.labels({{ 'platform.internal/environment': '{environment}' }}),
  ],
{gitops}}}
"""


# ---------------------------------------------------------------- Kapitan


KAPITAN_CLASS = """# How every cluster compiles: its overlay's objects, one YAML file each.
parameters:
  kapitan:
    compile:
      - output_path: .
        input_type: jsonnet
        output_type: yaml
        input_paths:
          - kapitan/components/${kapitan:vars:target}.jsonnet
"""


def kapitan_target(cluster: str) -> str:
    return f"""classes:
  - rtc
parameters:
  kapitan:
    vars:
      target: {cluster}
"""


def kapitan_component(cluster: str) -> str:
    # Kapitan writes every top-level key to <key>.yaml: one file per object, named as rtc names them.
    return f"""// Kapitan entry for {cluster}: the same overlay, one top-level key per object.
local cluster = import 'overlays/{cluster}.jsonnet';
local fileName(o) =
  local m = o.metadata;
  std.asciiLower(o.kind) + (if std.objectHas(m, 'namespace') then '-' + m.namespace else '') + '-' + m.name;

{{ [fileName(item.object)]: item.object for item in cluster.rtc.objects }}
"""


# ---------------------------------------------------------------- writing


@dataclass(frozen=True)
class Workload:
    root: str
    scale: Scale
    targets: list[str]
    touched_runtime: str
    touched_overlay: str
    targets_importing_touched_runtime: int

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data["objects"] = self.scale.objects
        return data


def write(scale: Scale, dest: Path) -> Workload:
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    shutil.copytree(REPO / "catalog" / "lib", dest / "catalog" / "lib")
    # The large fleet renders ~80 MiB, over the default limits.build-bytes (64 MiB): raised
    # as a team with such a fleet would.
    (dest / "rtc.toml").write_text(
        '[rtc]\nengine = "rjsonnet"\nout = "out"\n\n[limits]\nbuild-bytes = 268435456\n', encoding="utf-8"
    )
    for index in range(scale.runtimes):
        name = runtime_name(index)
        engine = ENGINES[index % len(ENGINES)]
        folder = dest / "catalog" / name
        folder.mkdir()
        (folder / "main.libsonnet").write_text(runtime_file(name, engine, index, scale), encoding="utf-8")
        (folder / "startup.sh").write_text(startup_script(name, engine, index), encoding="utf-8")
    (dest / "hardware").mkdir()
    for profile in PROFILES[: scale.hardware]:
        (dest / "hardware" / f"{profile.name}.libsonnet").write_text(hardware_file(profile), encoding="utf-8")
    (dest / "overlays").mkdir()
    targets = dest / "kapitan" / "inventory" / "targets"
    components = dest / "kapitan" / "components"
    targets.mkdir(parents=True)
    components.mkdir(parents=True)
    (dest / "kapitan" / "inventory" / "classes").mkdir()
    (dest / "kapitan" / "inventory" / "classes" / "rtc.yml").write_text(KAPITAN_CLASS, encoding="utf-8")
    names = []
    for cluster in range(scale.clusters):
        name = cluster_name(cluster)
        names.append(name)
        (dest / "overlays" / f"{name}.jsonnet").write_text(overlay_file(scale, cluster), encoding="utf-8")
        (targets / f"{name}.yml").write_text(kapitan_target(name), encoding="utf-8")
        (components / f"{name}.jsonnet").write_text(kapitan_component(name), encoding="utf-8")
    touched = 0
    importing = sum(1 for c in range(scale.clusters) if touched in cluster_runtimes(scale, c))
    workload = Workload(
        root=str(dest),
        scale=scale,
        targets=names,
        touched_runtime=f"catalog/{runtime_name(touched)}/main.libsonnet",
        touched_overlay=f"overlays/{cluster_name(0)}.jsonnet",
        targets_importing_touched_runtime=importing,
    )
    (dest / "workload.json").write_text(json.dumps(workload.to_json(), indent=2) + "\n", encoding="utf-8")
    return workload


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("dest", type=Path)
    args = parser.parse_args()
    workload = write(SCALES[args.scale], args.dest)
    print(json.dumps(workload.to_json(), indent=2))


if __name__ == "__main__":
    main()
