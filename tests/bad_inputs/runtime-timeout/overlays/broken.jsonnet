local rtc = import 'catalog/lib/rtc.libsonnet';
local vllm = import 'catalog/vllm/main.libsonnet';
local cuda121 = import 'hardware/nvidia-cuda-12.1.libsonnet';
local slow = std.foldl(function(a, b) a + b, std.range(1, 200000000), 0);
assert slow > 0;

rtc.cluster {
  name: 'broken',
  platform: rtc.platforms.alauda,
  deployments: [rtc.deploy(vllm, cuda121)],
}
