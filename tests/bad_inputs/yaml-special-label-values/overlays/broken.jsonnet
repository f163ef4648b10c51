local rtc = import 'catalog/lib/rtc.libsonnet';
local vllm = import 'catalog/vllm/main.libsonnet';
local cuda121 = import 'hardware/nvidia-cuda-12.1.libsonnet';

rtc.cluster {
  name: 'broken',
  platform: rtc.platforms.alauda,
  deployments: [rtc.deploy(vllm, cuda121)],
  patches: [rtc.patch.annotations({ k0: 'no', k1: 'on', k2: 'off', k3: 'yes', k4: 'y', k5: 'n', k6: '1e3', k7: '0x10', k8: '0o17', k9: '12.1', k10: '1_000', k11: '~', k12: 'null', k13: 'true', k14: '2001-01-01', k15: '1:20', k16: '.inf', k17: '+1', k18: '0777', k19: '=', k20: '' })],
}
