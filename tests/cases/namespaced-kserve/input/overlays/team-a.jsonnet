// Open Data Hub style: namespaced ServingRuntimes in the team's project.
local rtc = import 'catalog/lib/rtc.libsonnet';

rtc.cluster {
  name: 'team-a',
  platform: rtc.platforms.kserve,
  runtimeNamespace: 'team-a-models',
  deployments: [rtc.deploy(import 'catalog/echo/main.libsonnet', import 'hardware/cpu.libsonnet')],
}
