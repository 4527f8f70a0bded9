{{/* Chart name. */}}
{{- define "kafka-detective.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Full name: release name + chart name, unless the release name already contains the chart name. */}}
{{- define "kafka-detective.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "kafka-detective.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Selector labels: stable across upgrades. */}}
{{- define "kafka-detective.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kafka-detective.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Recommended labels of every resource. */}}
{{- define "kafka-detective.labels" -}}
helm.sh/chart: {{ include "kafka-detective.chart" . }}
{{ include "kafka-detective.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: exporter
app.kubernetes.io/part-of: kafka-detective
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "kafka-detective.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "kafka-detective.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "kafka-detective.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* Name of the Secret the chart creates for inline credentials. */}}
{{- define "kafka-detective.secretName" -}}
{{- printf "%s-credentials" (include "kafka-detective.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "kafka-detective.configDir" -}}/etc/kafka-detective{{- end -}}

{{/*
Credential plan: one entry per credential file, as JSON (templates can only return strings).
Each entry: cluster (index), file (path relative to the config dir), configKey (sasl.* or tls.* key of the
rendered config), and either secret+key (an existing Secret) or inlineKey+value (the chart-made Secret).
*/}}
{{- define "kafka-detective.credentialPlan" -}}
{{- $plan := list -}}
{{- range $i, $c := .Values.clusters -}}
{{- $dir := printf "secrets/%s" $c.name -}}
{{- with $c.sasl -}}
{{- $field := "" -}}
{{- if has .mechanism (list "PLAIN" "SCRAM-SHA-256" "SCRAM-SHA-512") -}}
{{- $field = "password" -}}
{{- else if eq .mechanism "OAUTHBEARER" -}}
{{- $field = "token" -}}
{{- end -}}
{{- if $field -}}
{{- if .existingSecret -}}
{{- $plan = append $plan (dict "cluster" $i "file" (printf "%s/%s" $dir $field) "section" "sasl" "configKey" (printf "%s_file" $field) "secret" .existingSecret "key" (default $field .secretKey)) -}}
{{- else if (get . $field) -}}
{{- $plan = append $plan (dict "cluster" $i "file" (printf "%s/%s" $dir $field) "section" "sasl" "configKey" (printf "%s_file" $field) "inlineKey" (printf "cluster-%d.%s" $i $field) "value" (get . $field)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- with $c.tls -}}
{{- $tls := . -}}
{{- range $item := list (list "ca" "caKey" "ca_file" "ca.crt") (list "cert" "certKey" "cert_file" "tls.crt") (list "key" "keyKey" "key_file" "tls.key") (list "keyPassword" "keyPasswordKey" "key_password_file" "key-password") -}}
{{- $inline := index $item 0 -}}
{{- $keyField := index $item 1 -}}
{{- $file := printf "%s/tls/%s" $dir (index $item 3) -}}
{{- if $tls.existingSecret -}}
{{- $key := get $tls $keyField -}}
{{- if and (eq $inline "ca") (not (hasKey $tls "caKey")) -}}{{- $key = "ca.crt" -}}{{- end -}}
{{- if $key -}}
{{- $plan = append $plan (dict "cluster" $i "file" $file "section" "tls" "configKey" (index $item 2) "secret" $tls.existingSecret "key" $key) -}}
{{- end -}}
{{- else if (get $tls $inline) -}}
{{- $plan = append $plan (dict "cluster" $i "file" $file "section" "tls" "configKey" (index $item 2) "inlineKey" (printf "cluster-%d.tls.%s" $i (index $item 3)) "value" (get $tls $inline)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- /* The endpoint's web config file and the TLS files it names (webConfig), under web/ in the config dir. */ -}}
{{- with .Values.webConfig -}}
{{- if .existingSecret -}}
{{- $plan = append $plan (dict "cluster" -1 "file" "web/web-config.yml" "section" "web" "secret" .existingSecret "key" .existingSecretKey) -}}
{{- else if (include "kafka-detective.webConfigFile" $) -}}
{{- $plan = append $plan (dict "cluster" -1 "file" "web/web-config.yml" "section" "web" "inlineKey" "web-config.yml" "value" (include "kafka-detective.webConfigFile" $)) -}}
{{- end -}}
{{- if .tls.enabled -}}
{{- range $item := list (list "certKey" "tls.crt") (list "keyKey" "tls.key") (list "clientCAKey" "client-ca.crt") -}}
{{- $key := get $.Values.webConfig.tls (index $item 0) -}}
{{- if $key -}}
{{- $plan = append $plan (dict "cluster" -1 "file" (printf "web/tls/%s" (index $item 1)) "section" "web" "secret" $.Values.webConfig.tls.existingSecret "key" $key) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- toJson (dict "items" $plan) -}}
{{- end -}}

{{/*
The web config file (exporter-toolkit format, docs/configuration.md) rendered from webConfig.tls and
webConfig.basicAuth; empty when neither is on. Paths are relative to the file (web/ in the config dir).
*/}}
{{- define "kafka-detective.webConfigFile" -}}
{{- $web := .Values.webConfig -}}
{{- $out := dict -}}
{{- if $web.tls.enabled -}}
{{- $tls := dict "cert_file" "tls/tls.crt" "key_file" "tls/tls.key" "min_version" $web.tls.minVersion -}}
{{- if $web.tls.clientCAKey -}}
{{- $_ := set $tls "client_ca_file" "tls/client-ca.crt" -}}
{{- $_ := set $tls "client_auth_type" $web.tls.clientAuthType -}}
{{- end -}}
{{- $_ := set $out "tls_server_config" $tls -}}
{{- end -}}
{{- if $web.basicAuth.users -}}
{{- $_ := set $out "basic_auth_users" $web.basicAuth.users -}}
{{- with $web.basicAuth.excludedPaths -}}
{{- $_ := set $out "auth_excluded_paths" . -}}
{{- end -}}
{{- end -}}
{{- if $out -}}
{{- toYaml $out -}}
{{- end -}}
{{- end -}}

{{/* The endpoint's URL scheme: https when the chart serves it over TLS (webConfig.tls). Probes, the
ServiceMonitor, the case_url base and NOTES.txt all follow it. */}}
{{- define "kafka-detective.scheme" -}}
{{- if .Values.webConfig.tls.enabled -}}https{{- else -}}http{{- end -}}
{{- end -}}

{{- define "kafka-detective.webConfigEnabled" -}}
{{- if or .Values.webConfig.existingSecret (include "kafka-detective.webConfigFile" .) -}}true{{- end -}}
{{- end -}}

{{/* The exporter's config file (docs/configuration.md), as YAML. Contains file paths only, never secrets. */}}
{{- define "kafka-detective.config" -}}
{{- $plan := (include "kafka-detective.credentialPlan" . | fromJson).items -}}
{{- $configDir := include "kafka-detective.configDir" . -}}
{{- $clusters := list -}}
{{- range $i, $c := .Values.clusters -}}
{{- $out := omit (deepCopy $c) "sasl" "tls" -}}
{{- if $c.sasl -}}
{{- $sasl := omit (deepCopy $c.sasl) "existingSecret" "secretKey" "password" "token" -}}
{{- range $plan -}}
{{- if and (eq (int .cluster) $i) (eq .section "sasl") -}}
{{- $_ := set $sasl .configKey (printf "%s/%s" $configDir .file) -}}
{{- end -}}
{{- end -}}
{{- $_ := set $out "sasl" $sasl -}}
{{- end -}}
{{- $tls := omit (deepCopy (default dict $c.tls)) "existingSecret" "caKey" "certKey" "keyKey" "keyPasswordKey" "ca" "cert" "key" "keyPassword" -}}
{{- range $plan -}}
{{- if and (eq (int .cluster) $i) (eq .section "tls") -}}
{{- $_ := set $tls .configKey (printf "%s/%s" $configDir .file) -}}
{{- end -}}
{{- end -}}
{{- if $tls -}}
{{- $_ := set $out "tls" $tls -}}
{{- end -}}
{{- $clusters = append $clusters $out -}}
{{- end -}}
{{- $config := merge (dict "listen_address" "0.0.0.0" "listen_port" 9308 "clusters" $clusters) (deepCopy .Values.config) -}}
{{- if include "kafka-detective.webConfigEnabled" . -}}
{{- $_ := set $config "web_config_file" (printf "%s/web/web-config.yml" $configDir) -}}
{{- end -}}
{{- toYaml $config -}}
{{- end -}}

{{/*
Checks the schema cannot express; each failure names the value to fix.
*/}}
{{- define "kafka-detective.validate" -}}
{{- $names := dict -}}
{{- range $i, $c := .Values.clusters -}}
{{- $where := printf "clusters[%d] (%s)" $i $c.name -}}
{{- if hasKey $names $c.name -}}
{{- fail (printf "%s: duplicate cluster name %q; every cluster needs its own name (it is the `cluster` label)" $where $c.name) -}}
{{- end -}}
{{- $_ := set $names $c.name true -}}
{{- $protocol := default "PLAINTEXT" $c.security_protocol -}}
{{- $isSasl := hasPrefix "SASL_" $protocol -}}
{{- if and $isSasl (not $c.sasl) -}}
{{- fail (printf "%s: security_protocol %s needs a sasl section (mechanism, username, existingSecret or password)" $where $protocol) -}}
{{- end -}}
{{- if and $c.sasl (not $isSasl) -}}
{{- fail (printf "%s: sasl is set but security_protocol is %s; use SASL_SSL or SASL_PLAINTEXT" $where $protocol) -}}
{{- end -}}
{{- with $c.sasl -}}
{{- $sasl := . -}}
{{- if has .mechanism (list "PLAIN" "SCRAM-SHA-256" "SCRAM-SHA-512") -}}
{{- if not .username -}}
{{- fail (printf "%s: sasl.username is required for %s" $where .mechanism) -}}
{{- end -}}
{{- $sources := 0 -}}
{{- range list "existingSecret" "password" "password_file" "password_env" -}}{{- if get $sasl . -}}{{- $sources = add1 $sources -}}{{- end -}}{{- end -}}
{{- if ne $sources 1 -}}
{{- fail (printf "%s: set exactly one of sasl.existingSecret (a Secret holding the password) or sasl.password (the chart creates the Secret)" $where) -}}
{{- end -}}
{{- if .token -}}
{{- fail (printf "%s: sasl.token is only used with mechanism OAUTHBEARER" $where) -}}
{{- end -}}
{{- else if eq .mechanism "OAUTHBEARER" -}}
{{- $sources := 0 -}}
{{- range list "existingSecret" "token" "token_file" "token_env" -}}{{- if get $sasl . -}}{{- $sources = add1 $sources -}}{{- end -}}{{- end -}}
{{- if ne $sources 1 -}}
{{- fail (printf "%s: set exactly one of sasl.existingSecret (a Secret holding the token) or sasl.token (the chart creates the Secret)" $where) -}}
{{- end -}}
{{- if .password -}}
{{- fail (printf "%s: sasl.password is not used with mechanism OAUTHBEARER; use sasl.token or sasl.existingSecret" $where) -}}
{{- end -}}
{{- else if eq .mechanism "AWS_MSK_IAM" -}}
{{- if ne $protocol "SASL_SSL" -}}
{{- fail (printf "%s: mechanism AWS_MSK_IAM needs security_protocol SASL_SSL" $where) -}}
{{- end -}}
{{- if or .existingSecret .password .token -}}
{{- fail (printf "%s: AWS_MSK_IAM takes no password or token; credentials come from the AWS environment (IRSA: serviceAccount.annotations)" $where) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- with $c.tls -}}
{{- $tls := . -}}
{{- if not (hasSuffix "SSL" $protocol) -}}
{{- range list "existingSecret" "ca" "cert" "key" "keyPassword" "ca_file" "cert_file" "key_file" -}}
{{- if get $tls . -}}
{{- fail (printf "%s: tls.%s is set but security_protocol %s does not use TLS; use SSL or SASL_SSL" $where . $protocol) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if .existingSecret -}}
{{- range list "ca" "cert" "key" "keyPassword" -}}
{{- if get $tls . -}}
{{- fail (printf "%s: set either tls.existingSecret or the inline tls.%s, not both" $where .) -}}
{{- end -}}
{{- end -}}
{{- if ne (empty .certKey) (empty .keyKey) -}}
{{- fail (printf "%s: tls.certKey and tls.keyKey go together (mutual TLS needs both)" $where) -}}
{{- end -}}
{{- else -}}
{{- if ne (empty .cert) (empty .key) -}}
{{- fail (printf "%s: tls.cert and tls.key go together (mutual TLS needs both)" $where) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- with .Values.webConfig -}}
{{- if and .tls.enabled (not .tls.existingSecret) -}}
{{- fail "webConfig.tls.enabled needs webConfig.tls.existingSecret: a Secret with the server certificate and key (e.g. made by cert-manager)" -}}
{{- end -}}
{{- if and .tls.clientCAKey (eq .tls.clientAuthType "NoClientCert") -}}
{{- fail "webConfig.tls.clientCAKey is set but clientAuthType is NoClientCert; use RequireAndVerifyClientCert" -}}
{{- end -}}
{{- if and .existingSecret .basicAuth.users -}}
{{- fail "set either webConfig.existingSecret (your own web config file) or webConfig.basicAuth.users, not both" -}}
{{- end -}}
{{- range $user, $hash := .basicAuth.users -}}
{{- if contains ":" $user -}}
{{- fail (printf "webConfig.basicAuth.users: user name %q cannot contain ':' (basic auth splits on it)" $user) -}}
{{- end -}}
{{- if not (regexMatch "^\\$2[aby]\\$[0-9][0-9]\\$[./A-Za-z0-9]{53}$" (toString $hash)) -}}
{{- fail (printf "webConfig.basicAuth.users.%s: not a bcrypt hash (make one with: htpasswd -nBC 10 \"\" | tr -d ':\\n')" $user) -}}
{{- end -}}
{{- end -}}
{{- if .basicAuth.users -}}
{{- range $probe := list $.Values.livenessProbe $.Values.readinessProbe -}}
{{- if and $probe $probe.httpGet (not (has $probe.httpGet.path $.Values.webConfig.basicAuth.excludedPaths)) -}}
{{- fail (printf "webConfig.basicAuth.excludedPaths must contain the probe path %s: the kubelet sends no credentials" $probe.httpGet.path) -}}
{{- end -}}
{{- end -}}
{{- if and $.Values.serviceMonitor.enabled (not $.Values.serviceMonitor.basicAuth.secretName) -}}
{{- fail "serviceMonitor.basicAuth.secretName is required with webConfig.basicAuth.users: Prometheus would get 401" -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- with .Values.podDisruptionBudget -}}
{{- if and .enabled (not (kindIs "invalid" .minAvailable)) (not (kindIs "invalid" .maxUnavailable)) -}}
{{- fail "podDisruptionBudget: set only one of minAvailable and maxUnavailable (set the other to null)" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
Checksum of the config file, so a config change rolls the pod. Secret values are left out on purpose: a hash
of a short password in a pod annotation could be brute-forced. Credential files are mounted through a
projected volume (no subPath), so the kubelet updates them in place and the exporter reads them on use.
*/}}
{{- define "kafka-detective.podChecksum" -}}
{{- $web := include "kafka-detective.webConfigFile" . -}}
{{- /* The web config holds bcrypt hashes and paths only; the exporter reads it once, so a change must roll. */ -}}
{{- if $web -}}
{{- printf "%s\n%s" (include "kafka-detective.config" .) $web | sha256sum -}}
{{- else -}}
{{- include "kafka-detective.config" . | sha256sum -}}
{{- end -}}
{{- end -}}
