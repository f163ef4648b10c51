local rtc = import 'catalog/lib/rtc.libsonnet';
local vllm = import 'catalog/vllm/main.libsonnet';
local cuda121 = import 'hardware/nvidia-cuda-12.1.libsonnet';
local x = importstr 'secret.sh';
assert std.length(x) > 0;

rtc.cluster {
  name: 'broken',
  platform: rtc.platforms.alauda,
  deployments: [rtc.deploy(vllm, cuda121)],
}
