{{/*
A `helm test` pod running one shell script with curl, under the same restricted security
context as the service itself.
Usage: include "order-service.testPod" (dict "root" $ "name" "readyz" "script" "..." "env" list)
*/}}
{{- define "order-service.testPod" -}}
{{- $root := .root }}
apiVersion: v1
kind: Pod
metadata:
  name: {{ include "order-service.fullname" $root }}-test-{{ .name }}
  labels:
    {{- include "order-service.componentLabels" (dict "root" $root "component" "test") | nindent 4 }}
  annotations:
    helm.sh/hook: test
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
spec:
  restartPolicy: Never
  automountServiceAccountToken: false
  securityContext:
    {{- toYaml $root.Values.podSecurityContext | nindent 4 }}
  containers:
    - name: {{ .name }}
      image: "{{ $root.Values.tests.image.repository }}:{{ $root.Values.tests.image.tag }}"
      imagePullPolicy: {{ $root.Values.tests.image.pullPolicy }}
      command: ["/bin/sh", "-ec"]
      args:
        - {{ .script | quote }}
      env:
        - name: API_URL
          value: "http://{{ include "order-service.fullname" $root }}-api:{{ $root.Values.api.service.port }}"
        {{- with .env }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      resources:
        requests:
          cpu: 10m
          memory: 16Mi
        limits:
          memory: 64Mi
      securityContext:
        {{- include "order-service.containerSecurityContext" $root | nindent 8 }}
{{- end }}
