local rtc = import 'catalog/lib/rtc.libsonnet';

rtc.runtime {
  name: 'broken-rt',
  images: { 'nvidia-cuda-12.1': 'example.com/broken:1.0' },
  spec: {
    containers: [{
      name: rtc.kserveContainer,
      command: ['bash', '-c', importstr 'startup.sh'],
      resources: rtc.resources(cpu=1, memory='2Gi'),
      securityContext: rtc.restricted(1000) { seccompProfile: { type: 'RuntimeDefault' } },
    }],
  },
}
