{{/* The chart's name, for the app.kubernetes.io/name label (job="backlot" in Prometheus). */}}
{{- define "backlot.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The prefix of every object's name: the release's name when it contains the chart's, so that
release "backlot" names its objects as deploy/ does.
*/}}
{{- define "backlot.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := include "backlot.name" . }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* The labels that select the operator's pods, as deploy/ has them. */}}
{{- define "backlot.selectorLabels" -}}
app.kubernetes.io/name: {{ include "backlot.name" . }}
app.kubernetes.io/component: operator
{{- end }}

{{/* Every object's labels: Helm's, and deploy/'s app.kubernetes.io/name and part-of. */}}
{{- define "backlot.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "backlot.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: backlot
{{- end }}

{{/* The labels of the operator's Deployment, pods and Service: the selector's too. */}}
{{- define "backlot.operatorLabels" -}}
{{ include "backlot.labels" . }}
app.kubernetes.io/component: operator
{{- end }}

{{/*
The operator's ServiceAccount. Without one of its own the chart needs a name: the admission
policy holds that identity to backlot.dev/ metadata, and "default" would hold every pod of
every namespace that runs as its namespace's default account to it.
*/}}
{{- define "backlot.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "backlot.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name: name the existing ServiceAccount to run as when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The leader election Lease: the Deployment's --leader-election-id and the Role's resourceNames. */}}
{{- define "backlot.leaseName" -}}
{{- printf "%s-leader" (include "backlot.fullname" .) }}
{{- end }}

{{/*
The metrics server's address: metricsBindAddress, else :8443 with metrics.secure and :8080
without, as `backlot run` defaults it.
*/}}
{{- define "backlot.metricsBindAddress" -}}
{{- .Values.metricsBindAddress | default (ternary ":8443" ":8080" .Values.metrics.secure) }}
{{- end }}

{{/* Where the metrics server's certificate Secret is mounted: --metrics-cert-path. */}}
{{- define "backlot.metricsCertPath" -}}
/etc/backlot/metrics-cert
{{- end }}

{{/* The Secret of the metrics server's certificate: metrics.certSecret, else <fullname>-metrics-cert. */}}
{{- define "backlot.metricsCertSecret" -}}
{{- .Values.metrics.certSecret | default (printf "%s-metrics-cert" (include "backlot.fullname" .)) }}
{{- end }}

{{/* The Service of the plain catalog port (catalog.enabled). */}}
{{- define "backlot.catalogServiceName" -}}
{{- printf "%s-catalog" (include "backlot.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The port of a bind address (":8080", "127.0.0.1:8080", "[::1]:8080"). */}}
{{- define "backlot.port" -}}
{{- regexReplaceAll "^.*:" . "" | int }}
{{- end }}

{{/* The ServiceAccount subject of the operator's bindings. */}}
{{- define "backlot.subjects" -}}
subjects:
  - kind: ServiceAccount
    name: {{ include "backlot.serviceAccountName" . }}
    namespace: {{ .Release.Namespace }}
{{- end }}

{{/*
A number as `backlot run` parses it: whole numbers without an exponent (values files give
Helm every number as a float, which would print 1000000 as 1e+06).
*/}}
{{- define "backlot.number" -}}
{{- if eq (float64 .) (float64 (int64 .)) }}{{ int64 . }}{{ else }}{{ . }}{{ end }}
{{- end }}

{{/*
`backlot run`'s flags, from the values: those deploy/deployment.yaml sets, in its order, then
the catalog port's as deploy/backstage adds it, then those left to the operator's defaults
unless a value is given, then extraArgs, which may not repeat one of the others (`backlot run`
refuses a flag given twice).
*/}}
{{- define "backlot.args" -}}
{{- $flags := list
  (printf "--leader-elect=%t" .Values.leaderElect)
  (printf "--leader-election-id=%s" (include "backlot.leaseName" .))
  (printf "--metrics-bind-address=%s" (include "backlot.metricsBindAddress" .))
  (printf "--metrics-secure=%t" .Values.metrics.secure) }}
{{- if .Values.metrics.secure }}
{{- $flags = append $flags (printf "--metrics-cert-path=%s" (include "backlot.metricsCertPath" .)) }}
{{- end }}
{{- $flags = concat $flags (list
  (printf "--health-probe-bind-address=%s" .Values.healthProbeBindAddress)
  (printf "--log-level=%s" .Values.logLevel)) }}
{{- if .Values.catalog.enabled }}
{{- $flags = append $flags (printf "--catalog-bind-address=:%d" (int .Values.catalog.port)) }}
{{- end }}
{{- with .Values.namespaces }}
{{- $flags = append $flags (printf "--namespaces=%s" (join "," .)) }}
{{- end }}
{{- range $flag, $value := dict "workers" .Values.workers "kube-api-qps" .Values.kubeApiQps "kube-api-burst" .Values.kubeApiBurst }}
{{- if not (kindIs "invalid" $value) }}
{{- $flags = append $flags (printf "--%s=%s" $flag (include "backlot.number" $value)) }}
{{- end }}
{{- end }}
{{- $names := list }}
{{- range $flags }}{{ $names = append $names (regexReplaceAll "=.*$" . "") }}{{ end }}
{{- range .Values.extraArgs }}
{{- if has (regexReplaceAll "=.*$" . "") $names }}
{{- fail (printf "extraArgs: %s repeats a flag that a value of the chart sets (%s)" . (join " " $flags)) }}
{{- end }}
{{- $flags = append $flags . }}
{{- end }}
{{- if and .Values.catalog.enabled (has "--serve-catalog-info=false" .Values.extraArgs) }}
{{- fail "catalog.enabled serves the Backstage export, which extraArgs turns off with --serve-catalog-info=false: drop one of them" }}
{{- end }}
{{- toYaml $flags }}
{{- end }}
