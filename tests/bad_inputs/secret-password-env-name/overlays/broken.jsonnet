local rtc = import 'catalog/lib/rtc.libsonnet';
local vllm = import 'catalog/vllm/main.libsonnet';
local cuda121 = import 'hardware/nvidia-cuda-12.1.libsonnet';

rtc.cluster {
  name: 'broken',
  platform: rtc.platforms.alauda,
  deployments: [rtc.deploy(vllm, cuda121)],
  patches: [rtc.patch.mixin({ spec+: { containers: [c { env+: [{ name: 'DB_PASSWORD', value: 'hunter2-prod' }] } for c in super.containers] } })],
}
