local cuda = import 'nvidia-cuda-12.1.libsonnet';
cuda { name: 'gpu-fast' }
