local rtc = import 'catalog/lib/rtc.libsonnet';

rtc.runtime {
  name: 'echo',
  images: { cpu: 'registry.example.org:5000/tools/echo:1.0@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef' },
  spec: {
    supportedModelFormats: [{ name: 'echo', version: '1', autoSelect: true, priority: 1 }],
    containers: [{
      name: rtc.kserveContainer,
      command: ['bash', '-c', importstr 'start.sh', 'bash'],
      env: [
        { name: 'MODEL_NAME', value: rtc.annotation('model') },
        { name: 'LOOKS_LIKE_NUMBER', value: '12.1' },
        { name: 'LOOKS_LIKE_BOOL', value: 'no' },
        { name: 'LOOKS_LIKE_FLOAT', value: '1e3' },
      ],
      resources: rtc.resources(cpu='500m', memory='256Mi'),
    }],
  },
}
