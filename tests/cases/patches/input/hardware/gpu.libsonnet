local rtc = import 'catalog/lib/rtc.libsonnet';

rtc.hardware {
  name: 'gpu',
  family: 'nvidia',
  accelerator: { type: 'nvidia', versionKind: 'cuda', version: '12.4' },
  resourceKey: 'nvidia.com/gpu',
  nameSuffix: 'cuda-12.4',
  // Hardware-specific change for every runtime on this profile.
  patch(obj):: obj { spec+: { nodeSelector: { 'nvidia.com/gpu.present': 'true' } } },
}
