// NVIDIA GPUs with a CUDA 11.6 capable driver (older clusters; MLServer's cu116 build).
local rtc = import 'catalog/lib/rtc.libsonnet';

rtc.hardware {
  name: 'nvidia-cuda-11.6',
  family: 'nvidia',
  accelerator: { type: 'nvidia', versionKind: 'cuda', version: '11.6' },
  resourceKey: 'nvidia.com/gpu',
  nameSuffix: 'cuda-11.6',
}
