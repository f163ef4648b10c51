// Every overlay patch, in order: mirror, resources, labels, annotations, a raw mixin.
local rtc = import 'catalog/lib/rtc.libsonnet';

rtc.cluster {
  name: 'lab',
  platform: rtc.platforms.alauda,
  deployments: [rtc.deploy(import 'catalog/tiny/main.libsonnet', import 'hardware/gpu.libsonnet')],
  patches: [
    rtc.patch.mirrorImages('mirror.lab.internal:8443/cache'),
    rtc.patch.resources(rtc.resources(cpu=1, memory='1Gi')),
    rtc.patch.labels({ 'lab.example.org/tier': 'experimental' }),
    rtc.patch.annotations({ 'lab.example.org/contact': 'ml-platform@example.org' }),
    rtc.patch.mixin({ spec+: { disabled: true } }),
  ],
}
