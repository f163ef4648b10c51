// Huawei MindIE inference service on Ascend NPUs (validated by the vendor on
// Atlas 300I Duo / 310P).
//
// Hardware requirements, and why:
//   - Root: the Ascend driver and hardware abstraction layer that MindIE's
//     daemon opens only work as root in this image, so the container has no
//     securityContext and runs as the image's user (root). The security rule
//     (RTC602) carries the exception below, with that reason.
//   - /dev/shm 8Gi in memory: MindIE's worker processes exchange tensors
//     through shared memory; the runtime default of 64 MiB is far too small.
//   - Management port: health endpoints live on the management plane, which
//     stays on 127.0.0.2:1026, unreachable for the kubelet; the startup probe
//     therefore asks the business API (/v1/models on 8080).
//   - Writable model volume: startup.sh chmods the model's config.json, as
//     Huawei's script does for MindIE's permission check, so the
//     InferenceService needs the storage.kserve.io/readonly: "false" annotation.
local rtc = import 'catalog/lib/rtc.libsonnet';
local shm = rtc.shm('8Gi');

rtc.runtime {
  name: 'mindie',
  images: {
    'ascend-310p': 'swr.cn-south-1.myhuaweicloud.com/ascendhub/mindie:2.2.RC1-300I-Duo-py311-openeuler24.03-lts',
  },
  names: { 'ascend-310p': 'mindie-2.2rc1-310p' },
  displayNames: { 'ascend-310p': 'mindie-2.2RC1' },
  requirements: {
    annotations: { 'storage.kserve.io/readonly': 'false' },
  },
  lintExceptions: {
    RTC602: 'MindIE must run as root: the Ascend driver and hardware abstraction layer it opens work only '
            + 'as root in this image (vendor guide, "User Privileges (Root Access)")',
  },
  spec: {
    // Selected by name: the platform writes the runtime's name into each
    // InferenceService (spec.predictor.model.runtime). autoSelect: false is
    // KServe's default too; it is written out so the intent is reviewable
    // (RTC505) and so several runtimes for one format never compete in
    // auto-selection without priorities (RTC504).
    supportedModelFormats: [{ name: 'transformers', version: '1', autoSelect: false }],
    containers: [{
      name: rtc.kserveContainer,
      command: ['bash', '-c', importstr 'startup.sh', 'mindie'],
      env: [
        { name: 'MODEL_NAME', value: rtc.annotation('aml-model-repo') },
        { name: 'MODEL_PATH', value: '/mnt/models/' + rtc.annotation('aml-model-repo') },
        { name: 'MY_POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
      ],
      resources: rtc.resources(cpu=2, memory='6Gi'),
      startupProbe: {
        httpGet: { path: '/v1/models', port: 8080, scheme: 'HTTP' },
        failureThreshold: 60,
        periodSeconds: 10,
        timeoutSeconds: 180,
      },
      volumeMounts: [shm.mount],
    }],
    volumes: [shm.volume],
  },
}
