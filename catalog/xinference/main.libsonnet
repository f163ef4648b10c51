// Xinference: serves many model families behind an OpenAI-compatible API.
// The model is not loaded at server start: startup.sh starts the server, then
// launches the model into it, so the InferenceService must say which model
// family it is (MODEL_FAMILY, e.g. llama, qwen2.5-instruct).
local rtc = import 'catalog/lib/rtc.libsonnet';

rtc.runtime {
  name: 'xinference',
  images: {
    'nvidia-cuda-12.1': 'xprobe/xinference:v1.2.2',
    cpu: 'xprobe/xinference:v1.2.2-cpu',
  },
  requirements: {
    // startup.sh exits when MODEL_FAMILY is empty; the runtime cannot guess it.
    env: ['MODEL_FAMILY'],
  },
  lintExceptions: {
    RTC602: 'validated only as the image user (root), as in the vendor guide; running as UID 1000 needs HOME '
            + 'and XINFERENCE_HOME on writable paths and a validation run on the platform before this goes',
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
      command: ['bash', '-c', importstr 'startup.sh', 'bash'],
      env: [
        { name: 'MODEL_PATH', value: '/mnt/models/' + rtc.annotation('aml-model-repo') },
        { name: 'MODEL_UID', value: rtc.annotation('aml-model-repo') },
        { name: 'MODEL_ENGINE', value: 'transformers' },
        // Set per InferenceService: the model family Xinference should load.
        { name: 'MODEL_FAMILY', value: '' },
      ],
      resources: rtc.resources(cpu=2, memory='6Gi'),
      startupProbe: {
        httpGet: { path: '/docs', port: 8080, scheme: 'HTTP' },
        failureThreshold: 60,
        periodSeconds: 10,
        timeoutSeconds: 10,
      },
    }],
  },
}
