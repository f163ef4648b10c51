local rtc = import 'catalog/lib/rtc.libsonnet';

rtc.runtime {
  name: 'broken-rt',
  images: ['example.com/broken:1.0'],
  spec: { containers: [{ name: rtc.kserveContainer, image: 'x' }] },
}
