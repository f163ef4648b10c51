local rtc = import 'catalog/lib/rtc.libsonnet';

rtc.runtime {
  name: 'tiny',
  images: { gpu: 'ubuntu:24.04' },
  names: { gpu: 'tiny-special' },
  displayNames: { gpu: 'Tiny (GPU)' },
  labels: { 'team.example.org/owner': 'ml-platform' },
  variants: { nvidia: { spec+: { hostIPC: false } } },
  spec: {
    supportedModelFormats: [{ name: 'tiny', version: '2' }],
    containers: [{ name: rtc.kserveContainer, args: ['--port=8080'] }],
  },
}
