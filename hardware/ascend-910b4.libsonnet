// Huawei Ascend 910B4 NPUs with the CANN 8.5.1 toolkit in the image.
//
// The device resource is the per-chip name the HAMi Ascend device plugin
// advertises (huawei.com/Ascend910B4); Huawei's own plugin uses
// huawei.com/Ascend910 for every 910 generation. The plugin and the Ascend
// container runtime inject /dev/davinci*, npu-smi and the driver libraries, so
// runtimes need no hostPath mounts.
local rtc = import 'catalog/lib/rtc.libsonnet';

rtc.hardware {
  name: 'ascend-910b4',
  family: 'ascend',
  accelerator: { type: 'ascend', versionKind: 'cann', version: '8.5.1' },
  resourceKey: 'huawei.com/Ascend910B4',
  nameSuffix: 'cann-8.5.1',
}
