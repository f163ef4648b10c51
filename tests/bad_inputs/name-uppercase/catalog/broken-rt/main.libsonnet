local rtc = import 'catalog/lib/rtc.libsonnet';

rtc.runtime {
  name: 'broken-rt',
  images: { 'nvidia-cuda-12.1': 'example.com/broken:1.0' },
  spec: { containers: [{ name: rtc.kserveContainer, image: 'x' }] },
  names: { 'nvidia-cuda-12.1': 'AML-VLLM' },
}
