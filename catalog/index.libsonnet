// Every runtime in the catalog, by name. Overlays that want the whole catalog
// import this; overlays that want a few runtimes import their files directly,
// so that editing another runtime does not rebuild them.
{
  mindie: import 'mindie/main.libsonnet',
  mlserver: import 'mlserver/main.libsonnet',
  triton: import 'triton/main.libsonnet',
  vllm: import 'vllm/main.libsonnet',
  'vllm-ascend': import 'vllm-ascend/main.libsonnet',
  xinference: import 'xinference/main.libsonnet',
}
