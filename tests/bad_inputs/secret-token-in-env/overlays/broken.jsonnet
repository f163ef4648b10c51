local rtc = import 'catalog/lib/rtc.libsonnet';
local vllm = import 'catalog/vllm/main.libsonnet';
local cuda121 = import 'hardware/nvidia-cuda-12.1.libsonnet';

rtc.cluster {
  name: 'broken',
  platform: rtc.platforms.alauda,
  deployments: [rtc.deploy(vllm, cuda121)],
  patches: [rtc.patch.mixin({ spec+: { containers: [c { env+: [{ name: 'HF_TOKEN', value: 'hf_a1B2c3D4a1B2c3D4a1B2c3D4a1B2c3D4a1B2c3D4' }] } for c in super.containers] } })],
}
