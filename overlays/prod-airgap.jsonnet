// Production, air-gapped: only the LLM engines the platform team supports,
// every image pulled through the internal mirror, sized for real models.
local rtc = import 'catalog/lib/rtc.libsonnet';
local vllm = import 'catalog/vllm/main.libsonnet';
local vllmAscend = import 'catalog/vllm-ascend/main.libsonnet';
local triton = import 'catalog/triton/main.libsonnet';
local cuda121 = import 'hardware/nvidia-cuda-12.1.libsonnet';
local ascend910b4 = import 'hardware/ascend-910b4.libsonnet';

rtc.cluster {
  name: 'prod-airgap',
  platform: rtc.platforms.alauda,
  deployments: [
    rtc.deploy(vllm, cuda121),
    rtc.deploy(vllmAscend, ascend910b4),
    rtc.deploy(triton, cuda121),
  ],
  // The only registry the cluster reaches; rtc lint (RTC202) refuses any other image.
  allowedRegistries: ['registry.prod.internal/mirror'],
  patches: [
    rtc.patch.mirrorImages('registry.prod.internal/mirror'),
    rtc.patch.resources(rtc.resources(cpu=8, memory='32Gi')),
    rtc.patch.labels({ 'platform.internal/environment': 'production' }),
  ],
  // Flux inside the air gap pulls the catalog from the internal Git mirror
  // and applies it to its own cluster (no kubeconfig Secret needed).
  gitops: rtc.flux {
    repoURL: 'https://git.prod.internal/platform/ai-runtime-catalog.git',
    revision: 'main',
  },
}
