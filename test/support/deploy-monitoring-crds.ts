/**
 * Stand-ins for the Prometheus Operator's ServiceMonitor and PrometheusRule CRDs, so that a
 * bare control plane can server-side dry-run deploy/monitoring. They are NOT the real CRDs:
 * their schemas hold only the fields deploy/monitoring uses (plus their siblings), with the
 * real CRDs' types and required fields and no x-kubernetes-preserve-unknown-fields, so
 * `kubectl apply --validate=strict` still rejects a misspelt or misplaced field there.
 */
const str = { type: 'string' };
const stringMap = { type: 'object', additionalProperties: str };
const labelSelector = {
  type: 'object',
  properties: {
    matchLabels: stringMap,
    matchExpressions: {
      type: 'array',
      items: { type: 'object', required: ['key', 'operator'], properties: { key: str, operator: str, values: { type: 'array', items: str } } },
    },
  },
};

const secretKeySelector = { type: 'object', required: ['key'], properties: { key: str, name: str, optional: { type: 'boolean' } } };
const configMapOrSecret = { type: 'object', properties: { configMap: secretKeySelector, secret: secretKeySelector } };

function crd(kind: string, plural: string, spec: Record<string, unknown>) {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.monitoring.coreos.com`, labels: { 'backlot.dev/test-stand-in': 'true' } },
    spec: {
      group: 'monitoring.coreos.com',
      scope: 'Namespaced',
      names: { kind, listKind: `${kind}List`, plural, singular: kind.toLowerCase() },
      versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', required: ['spec'], properties: { spec } } } }],
    },
  };
}

export const MONITORING_STAND_IN_CRDS = [
  crd('ServiceMonitor', 'servicemonitors', {
    type: 'object',
    required: ['selector'],
    properties: {
      jobLabel: str,
      selector: labelSelector,
      namespaceSelector: { type: 'object', properties: { any: { type: 'boolean' }, matchNames: { type: 'array', items: str } } },
      endpoints: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            port: str,
            targetPort: { 'x-kubernetes-int-or-string': true },
            path: str,
            scheme: { type: 'string', enum: ['http', 'https', 'HTTP', 'HTTPS'] },
            interval: { type: 'string', pattern: '^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$' },
            scrapeTimeout: str,
            honorLabels: { type: 'boolean' },
            honorTimestamps: { type: 'boolean' },
            bearerTokenFile: str,
            authorization: { type: 'object', properties: { type: str, credentials: secretKeySelector } },
            tlsConfig: {
              type: 'object',
              properties: {
                ca: configMapOrSecret,
                caFile: str,
                cert: configMapOrSecret,
                certFile: str,
                keyFile: str,
                keySecret: secretKeySelector,
                insecureSkipVerify: { type: 'boolean' },
                serverName: str,
              },
            },
          },
        },
      },
    },
  }),
  crd('PrometheusRule', 'prometheusrules', {
    type: 'object',
    properties: {
      groups: {
        type: 'array',
        items: {
          type: 'object',
          required: ['name'],
          properties: {
            name: { type: 'string', minLength: 1 },
            interval: str,
            limit: { type: 'integer' },
            rules: {
              type: 'array',
              items: {
                type: 'object',
                required: ['expr'],
                properties: {
                  alert: str,
                  record: str,
                  expr: { 'x-kubernetes-int-or-string': true },
                  for: str,
                  keep_firing_for: str,
                  labels: stringMap,
                  annotations: stringMap,
                },
              },
            },
          },
        },
      },
    },
  }),
];
