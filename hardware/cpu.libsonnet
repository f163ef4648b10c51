// Plain CPU nodes (x86-64 or arm64): no accelerator, no device resource.
local rtc = import 'catalog/lib/rtc.libsonnet';

rtc.hardware {
  name: 'cpu',
  family: 'cpu',
  accelerator: null,
  resourceKey: null,
  nameSuffix: 'cpu',
}
