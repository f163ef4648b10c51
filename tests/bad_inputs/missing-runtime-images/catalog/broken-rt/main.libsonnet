local rtc = import 'catalog/lib/rtc.libsonnet';

rtc.runtime {
  name: 'broken-rt',
  spec: { containers: [{ name: rtc.kserveContainer, image: 'x' }] },
}
