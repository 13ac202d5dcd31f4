{{/*
Chart name, truncated to the 63 characters Kubernetes allows in a label value.
*/}}
{{- define "order-service.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name. Room is left for the "-worker" / "-migrations" suffixes.
*/}}
{{- define "order-service.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "order-service.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels every object carries.
*/}}
{{- define "order-service.labels" -}}
helm.sh/chart: {{ include "order-service.chart" . }}
{{ include "order-service.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/part-of: order-service
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "order-service.selectorLabels" -}}
app.kubernetes.io/name: {{ include "order-service.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Per-component labels. The component is part of the selector so api and worker pods never
match each other's Deployment, Service or PDB.
Usage: include "order-service.componentSelectorLabels" (dict "root" $ "component" "api")
*/}}
{{- define "order-service.componentSelectorLabels" -}}
{{ include "order-service.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "order-service.componentLabels" -}}
{{ include "order-service.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "order-service.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "order-service.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "order-service.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag | toString) }}
{{- end }}
{{- end }}

{{/*
The Secret holding DATABASE_URL, REDIS_URL, JWT_SECRET, ADMIN_* and WEBHOOK_SECRET_KEY.
*/}}
{{- define "order-service.secretName" -}}
{{- default (include "order-service.fullname" .) .Values.existingSecret }}
{{- end }}

{{/*
REDIS_PREFIX: redis.prefix, or <namespace>.<release>, unique per release in a cluster.
*/}}
{{- define "order-service.redisPrefix" -}}
{{- default (printf "%s.%s" .Release.Namespace .Release.Name) .Values.redis.prefix }}
{{- end }}

{{/*
Replica count a PodDisruptionBudget must protect: the HPA/KEDA minimum when autoscaling.
Usage: include "order-service.minReplicas" (dict "root" $ "component" "api")
*/}}
{{- define "order-service.minReplicas" -}}
{{- $v := index .root.Values .component }}
{{- if and (eq .component "api") $v.autoscaling.enabled }}
{{- $v.autoscaling.minReplicas }}
{{- else if and (eq .component "worker") $v.keda.enabled }}
{{- $v.keda.minReplicas }}
{{- else }}
{{- $v.replicaCount }}
{{- end }}
{{- end }}

{{/*
terminationGracePeriodSeconds: the preStop pause plus the app's drain budget plus a margin,
unless set explicitly; an explicit value that leaves no room to drain fails the render.
*/}}
{{- define "order-service.terminationGracePeriodSeconds" -}}
{{- $v := index .root.Values .component }}
{{- $pause := ternary 0 (int $v.preStop.seconds) (eq $v.preStop.mode "none") }}
{{- $needed := add $pause (int .root.Values.config.shutdownTimeoutSeconds) }}
{{- if kindIs "invalid" $v.terminationGracePeriodSeconds }}
{{- add $needed 10 }}
{{- else if le (int $v.terminationGracePeriodSeconds) $needed }}
{{- fail (printf "%s.terminationGracePeriodSeconds (%d) must exceed preStop.seconds + config.shutdownTimeoutSeconds (%d)" .component (int $v.terminationGracePeriodSeconds) $needed) }}
{{- else }}
{{- $v.terminationGracePeriodSeconds }}
{{- end }}
{{- end }}

{{/*
Secret-sourced variables. Values never appear in `env` directly: only secretKeyRef.
Usage: include "order-service.secretEnv" (dict "root" $ "names" (list "DATABASE_URL"))
*/}}
{{- define "order-service.secretEnv" -}}
{{- $root := .root }}
{{- range .names }}
- name: {{ . }}
  valueFrom:
    secretKeyRef:
      name: {{ include "order-service.secretName" $root }}
      key: {{ . }}
      {{- if or (hasPrefix "ADMIN_" .) (eq . "WEBHOOK_SECRET_KEY") (and (eq . "JWT_SECRET") $root.Values.auth.jwksUrl) }}
      optional: true
      {{- end }}
{{- end }}
{{- end }}

{{/*
The restricted container security context, shared by every container the chart runs.
*/}}
{{- define "order-service.containerSecurityContext" -}}
{{- toYaml .Values.securityContext }}
{{- end }}
