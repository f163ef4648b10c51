// The demo cluster: every runtime on every hardware profile it supports, with
// the catalog's own images and sizes. It reproduces the vendor guide's examples.
local rtc = import 'catalog/lib/rtc.libsonnet';
local catalog = import 'catalog/index.libsonnet';
local hardware = import 'hardware/index.libsonnet';

rtc.cluster {
  name: 'demo',
  platform: rtc.platforms.alauda,
  deployments: rtc.everySupported(catalog, hardware),
  // Synced by the platform team's Argo CD, where this cluster is registered as 'demo'.
  gitops: rtc.argocd {
    repoURL: 'https://git.example.com/platform/ai-runtime-catalog.git',
    revision: 'main',
    destination: { name: 'demo' },
  },
}
