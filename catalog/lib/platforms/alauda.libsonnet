// Alauda AI platform vocabulary.
//
// The UI lists a ClusterServingRuntime by these labels and annotations:
//   cpaas.io/runtime-class       which engine (xinference, mlserver, triton, vllm, mindie)
//   cpaas.io/accelerator-type    one word per accelerator family: nvidia, ascend, cpu
//   cpaas.io/cuda-version        NVIDIA profiles; cpaas.io/cann-version on Ascend profiles
//   cpaas.io/display-name        the name shown in the runtime picker
// and names the platform's runtimes aml-<runtime>-<profile suffix>.
//
// The vendor's own examples disagree on the Ascend word ("ascend" for
// vLLM-ascend, "npu" for MindIE); rtc uses "ascend" everywhere so a filter on
// the label finds every Ascend runtime.
{
  name: 'alauda',
  apply(rt, hw, obj)::
    local acc = hw.accelerator;
    obj {
      metadata+: {
        name: if std.objectHas(rt.names, hw.name) then super.name else 'aml-' + super.name,
        labels+: {
          'cpaas.io/runtime-class': rt.runtimeClass,
          'cpaas.io/accelerator-type': if acc == null then 'cpu' else acc.type,
          [if acc != null then 'cpaas.io/%s-version' % acc.versionKind]: acc.version,
        },
        annotations+: {
          'cpaas.io/display-name':
            if std.objectHas(rt.displayNames, hw.name) then rt.displayNames[hw.name]
            else '%s-%s' % [rt.displayName, hw.nameSuffix],
        },
      },
    },
}
