local rtc = import 'catalog/lib/rtc.libsonnet';
local vllm = import 'catalog/vllm/main.libsonnet';
local cuda121 = import 'hardware/nvidia-cuda-12.1.libsonnet';
local mindie = import 'catalog/mindie/main.libsonnet';

rtc.cluster {
  name: 'broken',
  platform: rtc.platforms.alauda,
  deployments: [rtc.deploy(mindie, cuda121)],
}
