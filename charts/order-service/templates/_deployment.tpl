{{/*
One Deployment per role, from the same image. api and worker differ in args, env, Service
exposure and scaling; probes, security and shutdown handling are the same.
Usage: include "order-service.deployment" (dict "root" $ "component" "api")
*/}}
{{- define "order-service.deployment" -}}
{{- $root := .root }}
{{- $component := .component }}
{{- $v := index $root.Values $component }}
{{- $ctx := dict "root" $root "component" $component }}
{{- $autoscaled := or (and (eq $component "api") $v.autoscaling.enabled) (and (eq $component "worker") $v.keda.enabled) }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "order-service.fullname" $root }}-{{ $component }}
  labels:
    {{- include "order-service.componentLabels" $ctx | nindent 4 }}
spec:
  {{- if not $autoscaled }}
  replicas: {{ $v.replicaCount }}
  {{- end }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- include "order-service.componentSelectorLabels" $ctx | nindent 6 }}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 25%
      maxUnavailable: 0
  template:
    metadata:
      labels:
        {{- include "order-service.componentSelectorLabels" $ctx | nindent 8 }}
        {{- with $v.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        # Roll the pods when configuration or chart-managed secrets change.
        checksum/config: {{ include (print $root.Template.BasePath "/configmap.yaml") $root | sha256sum }}
        {{- if not $root.Values.existingSecret }}
        checksum/secret: {{ include (print $root.Template.BasePath "/secret.yaml") $root | sha256sum }}
        {{- end }}
        {{- with $v.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "order-service.serviceAccountName" $root }}
      automountServiceAccountToken: false
      {{- with $root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.priorityClassName }}
      priorityClassName: {{ . }}
      {{- end }}
      securityContext:
        {{- toYaml $root.Values.podSecurityContext | nindent 8 }}
      terminationGracePeriodSeconds: {{ include "order-service.terminationGracePeriodSeconds" $ctx }}
      containers:
        - name: {{ $component }}
          image: {{ include "order-service.image" $root }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          args:
            {{- toYaml $v.args | nindent 12 }}
          ports:
            # Both roles serve /healthz and /readyz on http (the worker only for its probes).
            - name: http
              containerPort: {{ $root.Values.config.port }}
              protocol: TCP
            - name: metrics
              containerPort: {{ $root.Values.config.metricsPort }}
              protocol: TCP
          envFrom:
            - configMapRef:
                name: {{ include "order-service.fullname" $root }}
          env:
            {{- if eq $component "api" }}
            {{- include "order-service.secretEnv" (dict "root" $root "names" (list "DATABASE_URL" "REDIS_URL" "JWT_SECRET" "ADMIN_USERNAME" "ADMIN_PASSWORD" "WEBHOOK_SECRET_KEY")) | trim | nindent 12 }}
            {{- else }}
            {{- include "order-service.secretEnv" (dict "root" $root "names" (list "DATABASE_URL" "REDIS_URL" "WEBHOOK_SECRET_KEY")) | trim | nindent 12 }}
            {{- end }}
            {{- with $v.extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          # Generous start-up window: the app retries MySQL/Redis with backoff before serving.
          startupProbe:
            httpGet:
              path: /healthz
              port: http
            periodSeconds: {{ $v.startupProbe.periodSeconds }}
            failureThreshold: {{ $v.startupProbe.failureThreshold }}
          # Liveness never checks dependencies: a database outage must not restart every pod.
          livenessProbe:
            httpGet:
              path: /healthz
              port: http
            periodSeconds: {{ $v.livenessProbe.periodSeconds }}
            timeoutSeconds: {{ $v.livenessProbe.timeoutSeconds }}
            failureThreshold: {{ $v.livenessProbe.failureThreshold }}
          # 503 until MySQL and Redis answer, and again as soon as draining starts.
          readinessProbe:
            httpGet:
              path: /readyz
              port: http
            periodSeconds: {{ $v.readinessProbe.periodSeconds }}
            timeoutSeconds: {{ $v.readinessProbe.timeoutSeconds }}
            failureThreshold: {{ $v.readinessProbe.failureThreshold }}
          {{- if ne $v.preStop.mode "none" }}
          lifecycle:
            preStop:
              {{- if eq $v.preStop.mode "sleep" }}
              sleep:
                seconds: {{ $v.preStop.seconds }}
              {{- else }}
              exec:
                command: ["/bin/sleep", "{{ $v.preStop.seconds }}"]
              {{- end }}
          {{- end }}
          resources:
            {{- toYaml $v.resources | nindent 12 }}
          securityContext:
            {{- include "order-service.containerSecurityContext" $root | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
      volumes:
        # The root filesystem is read-only; Node and its libraries may still need /tmp.
        - name: tmp
          emptyDir:
            sizeLimit: 64Mi
      {{- with $v.topologySpreadConstraints }}
      topologySpreadConstraints:
        {{- range . }}
        - {{ toYaml (omit . "labelSelector") | nindent 10 | trim }}
          labelSelector:
            {{- if .labelSelector }}
            {{- toYaml .labelSelector | nindent 12 }}
            {{- else }}
            matchLabels:
              {{- include "order-service.componentSelectorLabels" $ctx | nindent 14 }}
            {{- end }}
          {{- if not .matchLabelKeys }}
          # Spread each rollout's new ReplicaSet on its own, not old and new pods together.
          matchLabelKeys:
            - pod-template-hash
          {{- end }}
        {{- end }}
      {{- end }}
      {{- with $v.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end }}
