// vLLM-ascend: vLLM's OpenAI-compatible server on Huawei Ascend NPUs.
//
// Non-root mode (the platform default Modelcar UID 1000), validated for
// single-card Ascend 910 inference:
//   - runAsUser 1000 matches the Modelcar UID and the group that may open the
//     Ascend device files; the InferenceService adds fsGroup and
//     supplementalGroups 1000 (see requirements below).
//   - HOME=/tmp: the image's home is not writable for UID 1000.
//   - USER=vllm: without it Python's getpass.getuser() looks the UID up in
//     /etc/passwd, which has no entry for 1000 in the community image.
// Multi-card HCCL with an image not validated for UID 1000 needs root mode,
// which is a cluster-wide Modelcar setting: do not reuse this runtime there.
local rtc = import 'catalog/lib/rtc.libsonnet';
local shm = rtc.shm('1Gi');

rtc.runtime {
  name: 'vllm-ascend',
  runtimeClass: 'vllm',
  images: {
    'ascend-910b4': 'quay.io/ascend/vllm-ascend:v0.18.0rc1',
  },
  displayNames: { 'ascend-910b4': 'vllm-ascend-cann8.5' },
  annotations: {
    'aml.cpaas.io/model-type': '["generative"]',
    'aml.cpaas.io/user-create': 'true',
    'helm.sh/resource-policy': 'keep',
  },
  requirements: {
    // The vendor's table: HOME and USER must be set (here, in the runtime).
    env: ['HOME', 'USER'],
    podSecurityContext: { fsGroup: 1000, supplementalGroups: [1000] },
  },
  spec: {
    protocolVersions: ['v2'],
    // Selected by name: the platform writes the runtime's name into each
    // InferenceService (spec.predictor.model.runtime). autoSelect: false is
    // KServe's default too; it is written out so the intent is reviewable
    // (RTC505) and so several runtimes for one format never compete in
    // auto-selection without priorities (RTC504).
    supportedModelFormats: [{ name: 'transformers', version: '1', autoSelect: false }],
    containers: [{
      name: rtc.kserveContainer,
      command: ['bash', '-c', (importstr 'catalog/lib/scripts/vllm-model-path.sh') + (importstr 'startup.sh'), 'bash'],
      env: [
        { name: 'MODEL_NAME', value: rtc.annotation('aml-model-repo') },
        { name: 'GPU_MEMORY_UTILIZATION', value: '0.95' },
        { name: 'HOME', value: '/tmp' },
        { name: 'USER', value: 'vllm' },
      ],
      ports: [{ containerPort: 8080, name: 'http1', protocol: 'TCP' }],
      resources: rtc.resources(cpu=2, memory='6Gi'),
      securityContext: rtc.restricted(1000) { seccompProfile: { type: 'RuntimeDefault' } },
      // A real completion, as the vendor validated it: proves the model
      // answers, not only that the HTTP server is up.
      startupProbe: {
        exec: {
          command: [
            'sh',
            '-c',
            'curl -s -o /dev/null -w "%%{http_code}" -X POST "http://127.0.0.1:8080/v1/completions" -H "Content-Type: application/json" -d \'{"model": "%s", "prompt": "ping"}\' | grep -q "200"' % '{{ .Name }}',
          ],
        },
        failureThreshold: 60,
        periodSeconds: 10,
        timeoutSeconds: 180,
      },
      volumeMounts: [shm.mount],
    }],
    volumes: [shm.volume],
  },
}
