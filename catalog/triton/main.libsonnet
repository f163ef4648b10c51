// NVIDIA Triton Inference Server (TensorRT, ONNX, PyTorch, TensorFlow backends).
// The image is built for CUDA 12.x; the platform's runtime name says "cuda-12".
local rtc = import 'catalog/lib/rtc.libsonnet';

rtc.runtime {
  name: 'triton',
  images: {
    'nvidia-cuda-12.1': 'alaudadockerhub/tritonserver:25.02-py3',
  },
  names: { 'nvidia-cuda-12.1': 'aml-triton-cuda-12' },
  displayNames: { 'nvidia-cuda-12.1': 'triton-cuda12-x86' },
  spec: {
    // Selected by name: the platform writes the runtime's name into each
    // InferenceService (spec.predictor.model.runtime). autoSelect: false is
    // KServe's default too; it is written out so the intent is reviewable
    // (RTC505) and so several runtimes for one format never compete in
    // auto-selection without priorities (RTC504).
    supportedModelFormats: [{ name: 'triton', version: '1', autoSelect: false }],
    containers: [{
      name: rtc.kserveContainer,
      command: ['/bin/bash', '-c', importstr 'startup.sh', 'bash'],
      env: [
        // One OpenMP thread per backend instance: Triton runs many instances
        // in one process and the default (one per core) oversubscribes the CPU.
        { name: 'OMP_NUM_THREADS', value: '1' },
        { name: 'MODEL_REPO', value: rtc.annotation('aml-model-repo') },
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
