local rtc = import 'catalog/lib/rtc.libsonnet';
local vllm = import 'catalog/vllm/main.libsonnet';
local cuda121 = import 'hardware/nvidia-cuda-12.1.libsonnet';
local helpers = import 'catalog/lib/helpers.libsonnet';

rtc.cluster {
  name: 'broken',
  platform: rtc.platforms.alauda,
  deployments: helpers.deployments(vllm, cuda121),
}
