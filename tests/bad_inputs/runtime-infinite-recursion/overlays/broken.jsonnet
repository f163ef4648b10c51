local rtc = import 'catalog/lib/rtc.libsonnet';
local vllm = import 'catalog/vllm/main.libsonnet';
local cuda121 = import 'hardware/nvidia-cuda-12.1.libsonnet';
local depth(n) = depth(n + 1) + 1;
assert depth(0) > 0;

rtc.cluster {
  name: 'broken',
  platform: rtc.platforms.alauda,
  deployments: [rtc.deploy(vllm, cuda121)],
}
