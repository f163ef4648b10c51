// vLLM on NVIDIA GPUs: the platform's built-in LLM engine, OpenAI-compatible.
local rtc = import 'catalog/lib/rtc.libsonnet';
local shm = rtc.shm('8Gi');

rtc.runtime {
  name: 'vllm',
  images: {
    'nvidia-cuda-12.1': 'vllm/vllm-openai:v0.18.0',
  },
  annotations: {
    'aml.cpaas.io/model-type': '["generative"]',
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
        // Caches and config go to a writable place: the image's HOME is not
        // writable for the non-root user the container runs as.
        { name: 'HOME', value: '/tmp' },
        { name: 'HF_HOME', value: '/tmp/hf_home' },
        { name: 'VLLM_CONFIG_ROOT', value: '/tmp' },
      ],
      ports: [{ containerPort: 8080, name: 'http1', protocol: 'TCP' }],
      resources: rtc.resources(cpu=2, memory='6Gi'),
      securityContext: rtc.restricted(1000) { seccompProfile: { type: 'RuntimeDefault' } },
      // /v1/models answers only once the model is registered, unlike /health.
      startupProbe: {
        httpGet: { path: '/v1/models', port: 8080, scheme: 'HTTP' },
        failureThreshold: 60,
        periodSeconds: 10,
        timeoutSeconds: 10,
      },
      volumeMounts: [shm.mount],
    }],
    volumes: [shm.volume],
  },
}
