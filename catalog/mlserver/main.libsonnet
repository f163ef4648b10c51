// Seldon MLServer with its Hugging Face and diffusers runtimes. The model's
// pipeline tag (aml-pipeline-tag annotation) picks the MLServer runtime class.
local rtc = import 'catalog/lib/rtc.libsonnet';

rtc.runtime {
  name: 'mlserver',
  images: {
    'nvidia-cuda-11.6': 'alaudadockerhub/seldon-mlserver:1.6.0-cu116-v1.3.1',
    // The vendor ships one multi-arch build; it runs without a GPU as well.
    cpu: 'alaudadockerhub/seldon-mlserver:1.6.0-cu116-v1.3.1',
  },
  displayNames: { 'nvidia-cuda-11.6': 'mlserver-cuda11.6-x86-arm' },
  spec: {
    // Read by KServe's {{.Labels.modelClass}} placeholder in MLServer images.
    labels: { modelClass: 'mlserver_sklearn.SKLearnModel' },
    // Selected by name: the platform writes the runtime's name into each
    // InferenceService (spec.predictor.model.runtime). autoSelect: false is
    // KServe's default too; it is written out so the intent is reviewable
    // (RTC505) and so several runtimes for one format never compete in
    // auto-selection without priorities (RTC504).
    supportedModelFormats: [
      { name: 'mlflow', version: '1', autoSelect: false },
      { name: 'transformers', version: '1', autoSelect: false },
    ],
    containers: [{
      name: rtc.kserveContainer,
      // A login shell (-l) so the image's profile puts its Python env on PATH.
      command: ['/bin/bash', '-lc', importstr 'startup.sh', 'bash'],
      env: [
        { name: 'MLSERVER_MODEL_URI', value: '/mnt/models' },
        { name: 'MLSERVER_MODEL_NAME', value: rtc.annotation('aml-model-repo') },
        { name: 'MODEL_TYPE', value: rtc.annotation('aml-pipeline-tag') },
      ],
      resources: rtc.resources(cpu=2, memory='6Gi'),
      securityContext: rtc.restricted(1000),
      startupProbe: {
        httpGet: { path: '/v2/models/%s/ready' % rtc.annotation('aml-model-repo'), port: 8080, scheme: 'HTTP' },
        failureThreshold: 60,
        periodSeconds: 10,
        timeoutSeconds: 10,
      },
    }],
  },
}
