local rtc = import 'catalog/lib/rtc.libsonnet';
rtc.hardware {
  name: 'broken-hw'
  family: 'nvidia',
}
