// Huawei Ascend 310P (Atlas 300I Duo) inference cards with CANN 8.3.0.
local rtc = import 'catalog/lib/rtc.libsonnet';

rtc.hardware {
  name: 'ascend-310p',
  family: 'ascend',
  accelerator: { type: 'ascend', versionKind: 'cann', version: '8.3.0' },
  resourceKey: 'huawei.com/Ascend310P',
  nameSuffix: '310p',
}
