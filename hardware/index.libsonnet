// Every hardware profile, by name (see catalog/index.libsonnet for why both exist).
{
  'ascend-310p': import 'ascend-310p.libsonnet',
  'ascend-910b4': import 'ascend-910b4.libsonnet',
  cpu: import 'cpu.libsonnet',
  'nvidia-cuda-11.6': import 'nvidia-cuda-11.6.libsonnet',
  'nvidia-cuda-12.1': import 'nvidia-cuda-12.1.libsonnet',
}
