// rtc: the Jsonnet API that runtime, hardware and overlay files import.
//
// The layers, applied in this fixed order to produce one object:
//   1. runtime   catalog/<runtime>/main.libsonnet   rtc.runtime { ... }
//   2. hardware  hardware/<profile>.libsonnet       rtc.hardware { ... }
//   3. platform  catalog/lib/platforms/<name>.libsonnet (label/annotation vocabulary)
//   4. overlay   overlays/<cluster>.jsonnet          rtc.cluster { ... } with patches
//
// The compiler reads the manifested cluster object (see `cluster` below) and
// the hidden `stages` field to explain which layer set which value.
//
// Only std functions that both jrsonnet and go-jsonnet provide are used here
// (no std.trim, std.isNull, std.thisFile): the compiler proves both engines
// give byte-identical output.

local kserveContainer = 'kserve-container';

// Apply `f` to the serving container (the one KServe uses), leave the rest.
local mapServingContainer(obj, f) = obj {
  spec+: {
    containers: [
      if c.name == kserveContainer then f(c) else c
      for c in super.containers
    ],
  },
};

// Split an image reference into registry host, repository path and the rest
// (":tag" and/or "@digest"), following the Docker reference grammar: the first
// path component is a host only if it has a "." or ":" or is "localhost".
local parseImage(ref) =
  local atDigest = std.split(ref, '@');
  local nameTag = atDigest[0];
  local digest = if std.length(atDigest) > 1 then '@' + atDigest[1] else '';
  local parts = std.split(nameTag, '/');
  local first = parts[0];
  local hasHost = std.length(parts) > 1 &&
                  (std.length(std.findSubstr('.', first)) > 0 ||
                   std.length(std.findSubstr(':', first)) > 0 ||
                   first == 'localhost');
  local host = if hasHost then first else 'docker.io';
  local pathParts = if hasHost then parts[1:] else parts;
  local lastSplit = std.split(pathParts[std.length(pathParts) - 1], ':');
  local tag = if std.length(lastSplit) > 1 then ':' + lastSplit[1] else '';
  local repoParts = pathParts[:std.length(pathParts) - 1] + [lastSplit[0]];
  local repo = std.join('/', if !hasHost && std.length(repoParts) == 1 then ['library'] + repoParts else repoParts);
  { host: host, repository: repo, tag: tag, digest: digest };

{
  kserveContainer: kserveContainer,
  parseImage: parseImage,

  // ---------------------------------------------------------------- runtime
  // A runtime definition. Required: name, images (one per hardware family it
  // supports), spec (the ClusterServingRuntime spec without the image).
  runtime:: {
    name: error 'a runtime needs a name (the folder name under catalog/)',
    // Shown in the platform UI; the hardware layer appends its suffix.
    displayName: self.name,
    // The value of the platform's runtime-class label (e.g. "vllm" for vllm-ascend).
    runtimeClass: self.name,
    // One image per supported hardware profile: { 'nvidia-cuda-12.1': '...', cpu: '...' }.
    // A profile not listed here is not supported: asking for it is an error.
    images: error 'runtime "%s" declares no images (one per supported hardware profile)' % self.name,
    supports: std.objectFields(self.images),
    // Object name and display name per hardware profile, when the default
    // "<runtime>-<profile suffix>" (plus the platform's prefix) is not what the
    // platform already uses. An explicit name is used as it is.
    names: {},
    displayNames: {},
    // Extra metadata and per-family or per-profile mixins applied at the hardware stage.
    labels: {},
    annotations: {},
    variants: {},
    // What an InferenceService using this runtime must provide (checked by rtc lint, RTC803):
    // { env: ['NAME'], annotations: { key: 'value' }, podSecurityContext: { fsGroup: 1000 } }.
    requirements: {},
    // Lint findings this runtime accepts, each with the reason it cannot follow
    // the rule: { RTC602: 'why' }. Written here, next to the runtime, so the
    // exception is reviewed with it (docs/rules.md).
    lintExceptions: {},
    spec: error 'runtime "%s" has no spec' % self.name,
  },

  // ---------------------------------------------------------------- hardware
  // A hardware profile. `accelerator` carries facts; the platform layer turns
  // them into its own label vocabulary.
  hardware:: {
    name: error 'a hardware profile needs a name (its file name under hardware/)',
    family: error 'hardware "%s" needs a family (nvidia, ascend, cpu, ...)' % self.name,
    // e.g. { type: 'nvidia', versionKind: 'cuda', version: '12.1' }; null for CPU.
    accelerator: null,
    // Extended resource an InferenceService requests for one device, e.g. nvidia.com/gpu.
    resourceKey: null,
    // Appended to object and display names: <runtime>-<nameSuffix>.
    nameSuffix: self.name,
    // Hardware-specific changes to every runtime object on this profile.
    patch(obj):: obj,
  },

  // ---------------------------------------------------------------- stages
  // Stage 1: what the runtime file alone says.
  runtimeStage(rt):: {
    apiVersion: 'serving.kserve.io/v1alpha1',
    kind: 'ClusterServingRuntime',
    metadata: {
      name: rt.name,
      [if std.length(rt.labels) > 0 then 'labels']: rt.labels,
      [if std.length(rt.annotations) > 0 then 'annotations']: rt.annotations,
    },
    spec: rt.spec,
  },

  // Stage 2: the hardware profile picks the image, the name and its own changes.
  hardwareStage(rt, hw, obj)::
    local variant(key) = if std.objectHas(rt.variants, key) then rt.variants[key] else {};
    local named = obj {
      metadata+: {
        name: if std.objectHas(rt.names, hw.name) then rt.names[hw.name] else '%s-%s' % [rt.name, hw.nameSuffix],
      },
    };
    local withImage = mapServingContainer(named, function(c) c { image: rt.images[hw.name] });
    hw.patch(withImage) + variant(hw.family) + variant(hw.name),

  // Stage 3: the platform's vocabulary for the runtime and hardware facts
  // (labels, annotations, the name prefix of runtimes it did not name).
  platformStage(rt, hw, platform, obj):: platform.apply(rt, hw, obj),

  // Stage 4: the cluster's patches, in order.
  overlayStage(patches, obj):: std.foldl(function(o, p) p(o), patches, obj),

  // One runtime on one hardware profile, checked for support.
  deploy(rt, hw)::
    if !std.member(rt.supports, hw.name) then
      error 'runtime "%s" does not support hardware "%s"; it supports: %s' % [
        rt.name,
        hw.name,
        std.join(', ', rt.supports),
      ]
    else { runtime: rt, hardware: hw },

  // Every runtime on every hardware profile it supports, in catalog order.
  // `runtimes` and `hardware` are objects of name -> definition.
  everySupported(runtimes, hardware):: [
    $.deploy(runtimes[r], hardware[h])
    for r in std.objectFields(runtimes)
    for h in runtimes[r].supports
  ],

  // ---------------------------------------------------------------- cluster
  // A cluster overlay. The manifested object is what the compiler reads.
  cluster:: {
    local c = self,
    name:: error 'a cluster needs a name (its overlay file name)',
    platform:: error 'cluster "%s" needs a platform layer (e.g. rtc.platforms.alauda)' % c.name,
    // [rtc.deploy(runtime, hardware), ...]
    deployments:: [],
    // [function(obj) obj', ...] applied to every object after the platform layer.
    patches:: [],
    // Emit namespaced ServingRuntimes into this namespace instead of ClusterServingRuntimes.
    runtimeNamespace:: null,
    // Registries (hosts or host/path prefixes) this cluster can pull from; null: any (rtc lint, RTC202).
    allowedRegistries:: null,
    // How out/<name>/ reaches the cluster: rtc.argocd { ... } or rtc.flux { ... };
    // null writes no GitOps objects for this cluster (see docs/gitops.md).
    gitops:: null,

    local scoped(obj) =
      if c.runtimeNamespace == null then obj
      else obj { kind: 'ServingRuntime', metadata+: { namespace: c.runtimeNamespace } },

    // Every stage of every object, for `rtc explain` (hidden: evaluated on demand).
    stages:: [
      local rt = d.runtime;
      local hw = d.hardware;
      local s1 = scoped($.runtimeStage(rt));
      local s2 = $.hardwareStage(rt, hw, s1);
      local s3 = $.platformStage(rt, hw, c.platform, s2);
      local s4 = $.overlayStage(c.patches, s3);
      { runtime: rt.name, hardware: hw.name, platform: c.platform.name, stages: [s1, s2, s3, s4] }
      for d in c.deployments
    ],

    rtc: {
      cluster: c.name,
      platform: c.platform.name,
      allowedRegistries: c.allowedRegistries,
      gitops: c.gitops,
      objects: [
        {
          runtime: d.runtime.name,
          hardware: d.hardware.name,
          platform: c.platform.name,
          requirements: d.runtime.requirements,
          suppressions: d.runtime.lintExceptions,
          resourceKey: d.hardware.resourceKey,
          object: $.overlayStage(
            c.patches,
            $.platformStage(d.runtime, d.hardware, c.platform, $.hardwareStage(d.runtime, d.hardware, scoped($.runtimeStage(d.runtime))))
          ),
        }
        for d in c.deployments
      ],
    },
  },

  // ---------------------------------------------------------------- gitops
  // Where a cluster's out/<name>/ is synced from and to. The compiler turns
  // these into out/argocd/ and out/flux/ objects (docs/gitops.md). repoURL is
  // the Git repository the engine clones; revision a branch, tag or commit.
  //
  // Argo CD: destination is { name: '<cluster registered in Argo CD>' } or
  // { server: 'https://...' }. mode: 'applicationset' (one list-generator
  // ApplicationSet per Argo CD namespace) or 'application' (an Application of
  // its own); null takes rtc.toml's [gitops] argocd-mode.
  argocd:: {
    engine: 'argocd',
    // Required (checked by the compiler, which can point at the overlay's line).
    repoURL: null,
    revision: 'main',
    destination: null,
    project: 'default',
    namespace: 'argocd',
    mode: null,
  },

  // Flux: kubeConfigSecret names the Secret (in `namespace`) holding the
  // cluster's kubeconfig; null applies to the cluster Flux runs in. Clusters
  // that share namespace, repoURL and revision share one GitRepository,
  // named `source`.
  flux:: {
    engine: 'flux',
    repoURL: null,  // required
    revision: 'main',
    kubeConfigSecret: null,
    namespace: 'flux-system',
    source: 'rtc',
    interval: '10m',
  },

  platforms: {
    alauda: import 'platforms/alauda.libsonnet',
    kserve: import 'platforms/kserve.libsonnet',
  },

  // ---------------------------------------------------------------- helpers
  // Equal requests and limits (Guaranteed QoS for cpu/memory).
  resources(cpu, memory):: {
    limits: { cpu: cpu, memory: memory },
    requests: { cpu: cpu, memory: memory },
  },

  // Non-root, no privilege escalation, all capabilities dropped.
  restricted(uid):: {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
    privileged: false,
    runAsNonRoot: true,
    runAsUser: uid,
  },

  // A memory-backed /dev/shm: multi-process engines (NCCL/HCCL, torch
  // multiprocessing) need more than the container runtime's 64 MiB default.
  shm(size):: {
    volume: { name: 'dshm', emptyDir: { medium: 'Memory', sizeLimit: size } },
    mount: { name: 'dshm', mountPath: '/dev/shm' },
  },

  // KServe placeholder for an annotation of the InferenceService. The key is a
  // Go raw string (backticks): KServe renders the container's JSON text as a
  // Go template, where a double-quoted key arrives escaped and breaks parsing.
  annotation(key):: '{{ index .Annotations `%s` }}' % key,

  // ---------------------------------------------------------------- patches
  patch: {
    // Rewrite every container image to <mirror>/<host>/<repository><tag><digest>.
    mirrorImages(mirror):: function(obj)
      mapServingContainer(obj, function(c)
        local i = parseImage(c.image);
        c { image: '%s/%s/%s%s%s' % [mirror, i.host, i.repository, i.tag, i.digest] }),

    labels(labels):: function(obj) obj { metadata+: { labels+: labels } },

    annotations(annotations):: function(obj) obj { metadata+: { annotations+: annotations } },

    // Resources of the serving container.
    resources(resources):: function(obj)
      mapServingContainer(obj, function(c) c { resources: resources }),

    // Any mixin, for changes the named patches do not cover.
    mixin(m):: function(obj) obj + m,
  },
}
