// Plain upstream KServe: no UI vocabulary. Records the engine in the
// Kubernetes recommended labels so `kubectl get -l` can still filter.
{
  name: 'kserve',
  apply(rt, hw, obj)::
    obj {
      metadata+: {
        labels+: {
          'app.kubernetes.io/name': rt.runtimeClass,
          'app.kubernetes.io/component': 'serving-runtime',
        },
      },
    },
}
