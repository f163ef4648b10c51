// NVIDIA GPUs with a CUDA 12.1 capable driver (images built for CUDA 12.x).
local rtc = import 'catalog/lib/rtc.libsonnet';

rtc.hardware {
  name: 'nvidia-cuda-12.1',
  family: 'nvidia',
  accelerator: { type: 'nvidia', versionKind: 'cuda', version: '12.1' },
  resourceKey: 'nvidia.com/gpu',
  nameSuffix: 'cuda-12.1',
}
