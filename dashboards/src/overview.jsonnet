// Overview: is every cluster healthy, which groups lag most, which patterns fire, what breaks next,
// and is the exporter itself healthy.
local kd = import 'kd.libsonnet';
local g = kd.g;
local p = g.panel;
local o = p.override;
local t = g.target;
local c = kd.sel.c;

function(params={})
  local P = kd.params(params);
  // Colours follow the alert thresholds of patterns/config.yaml.
  local lagSecondsWarning = kd.cfg(P, 'lag_seconds_warning', 300);
  local lagSecondsCritical = kd.cfg(P, 'lag_seconds_critical', 1800);
  local lagMessagesWarning = kd.cfg(P, 'lag_messages_warning', 10000);
  local retentionBreachWarning = kd.cfg(P, 'retention_breach_seconds_warning', 3600);
  local staleSeconds = kd.cfg(P, 'collection_stale_seconds', 300);

  local healthStat(title, expr, description, warn=1, crit=1) =
    p.stat.new(title, 'short', description)
    + p.withTargets([t.new(expr, '{{cluster}}')])
    + p.withThresholds(g.thresholds.levels(warn, crit));

  local groupKey = 'cluster, consumergroup';
  local gtKey = 'cluster, consumergroup, topic';
  local lag = 'sum by (%s) (kafka_consumergroup_lag_sum{%s})' % [gtKey, c];
  local predicted(h) = 'max by (%s) (kafka_consumergroup_predicted_lag{%s, horizon="%s"})' % [gtKey, c, h];
  local predictedUpper(h) = 'max by (%s) (kafka_consumergroup_predicted_lag_upper{%s, horizon="%s"})' % [gtKey, c, h];
  // Group/topic pairs whose lag is forecast to grow over the next 30 minutes: the ten largest growths.
  local growth = 'topk(10, (%s - on (%s) %s) > 0)' % [predicted('30m'), gtKey, lag];
  local onGrowing(expr) = '%s and on (%s) %s' % [expr, gtKey, growth];

  kd.dashboard(
    kd.dashboards.overview,
    'Health of every Kafka cluster the exporter watches: brokers and partitions, the most lagging consumer '
    + 'groups, the alert patterns firing now, the breaches the forecasts predict, and the exporter itself.',
    [kd.var.cluster()],
    P,
  )
  + g.dashboard.withPanels([
    p.row.new('Cluster health'),
    p.stat.new('Cluster reachable', 'none',
               'kafka_detective_cluster_up: 1 when the last collection cycle reached the cluster. When 0 the '
               + 'exporter keeps serving the last snapshot, so every other panel shows stale data.', graph=false)
    + p.withTargets([t.new('min by (cluster) (kafka_detective_cluster_up{%s})' % c, '{{cluster}}')])
    + p.withMappings([g.mapping.values({ '0': ['DOWN', 'red'], '1': ['UP', 'green'] })])
    + p.withThresholds(g.thresholds.atLeast(1)),
    p.stat.new('Brokers', 'short', 'Brokers in the cluster metadata (kafka_brokers).')
    + p.withTargets([t.new('sum by (cluster) (kafka_brokers{%s})' % c, '{{cluster}}')])
    + p.withThresholds(g.thresholds.atLeast(1)),
    p.stat.new('Active controllers', 'short',
               'Brokers reporting themselves as the active controller; anything but exactly 1 needs attention.',
               graph=false)
    + p.withTargets([t.new('sum by (cluster) (kafka_broker_is_controller{%s})' % c, '{{cluster}}')])
    + p.withThresholds(g.thresholds.absolute([['red'], ['green', 1], ['red', 2]])),
    // Each reads the per-partition flags or, at topics granularity topic (the lean profile), the per-topic counts.
    healthStat('Offline partitions',
               'sum by (cluster) (kafka_topic_partition_offline{%s}) or sum by (cluster) (kafka_topic_offline_partitions{%s})' % [c, c],
               'Partitions without a leader: unavailable for produce and consume.'),
    healthStat('Under-replicated partitions',
               'sum by (cluster) (kafka_topic_partition_under_replicated_partition{%s})' % c
               + ' or sum by (cluster) (kafka_topic_under_replicated_partitions{%s})' % c,
               'Partitions with fewer in-sync replicas than replicas.', warn=1, crit=10),
    healthStat('Under min ISR partitions',
               'sum by (cluster) (kafka_topic_partition_under_min_isr{%s}) or sum by (cluster) (kafka_topic_under_min_isr_partitions{%s})' % [c, c],
               "Partitions whose in-sync replicas are fewer than the topic's min.insync.replicas: producers "
               + 'using acks=all get NotEnoughReplicas errors.'),

    p.timeseries.new('Partition health', 'short',
                     'Offline, under-replicated and under-min-ISR partitions over time (all zero when healthy).')
    + p.withTargets([
      t.new('sum by (cluster) (kafka_topic_partition_offline{%s}) or sum by (cluster) (kafka_topic_offline_partitions{%s})' % [c, c],
            'offline {{cluster}}'),
      t.new('sum by (cluster) (kafka_topic_partition_under_replicated_partition{%s})' % c
            + ' or sum by (cluster) (kafka_topic_under_replicated_partitions{%s})' % c,
            'under-replicated {{cluster}}'),
      t.new('sum by (cluster) (kafka_topic_partition_under_min_isr{%s}) or sum by (cluster) (kafka_topic_under_min_isr_partitions{%s})' % [c, c],
            'under min ISR {{cluster}}'),
    ])
    + p.withMinMax(min=0),
    p.timeseries.new('Consumer groups by state', 'short',
                     'Consumer groups per state (Stable, Empty, PreparingRebalance, ...). Empty groups with lag '
                     + 'are usually consumers that are down.', stack=true)
    + p.withTargets([
      t.new('count by (cluster, state) (kafka_consumergroup_state{%s} == 1)' % c, '{{state}} {{cluster}}'),
    ])
    + p.withMinMax(min=0),

    p.row.new('Top lagging consumer groups'),
    p.bargauge.new('Top 10 groups by lag (seconds)', 's',
                   'Age of the oldest unconsumed message, worst topic of each group '
                   + '(kafka_consumergroup_max_lag_seconds). Click a bar to investigate the group.')
    + p.withTargets([t.instant(
      'topk(10, max by (%s) (kafka_consumergroup_max_lag_seconds{%s}))' % [groupKey, c],
      '{{consumergroup}} ({{cluster}})'
    )])
    + p.withThresholds(g.thresholds.levels(lagSecondsWarning, lagSecondsCritical))
    + p.withFieldLinks([kd.groupLink('__field.labels')])
    + p.withSize(12, 9),
    p.bargauge.new('Top 10 groups by lag (messages)', 'short',
                   'Messages not yet consumed, summed over the topics of each group (kafka_consumergroup_lag_sum). '
                   + 'Click a bar to investigate the group.')
    + p.withTargets([t.instant(
      'topk(10, sum by (%s) (kafka_consumergroup_lag_sum{%s}))' % [groupKey, c],
      '{{consumergroup}} ({{cluster}})'
    )])
    + p.withThresholds(g.thresholds.levels(lagMessagesWarning, 10 * lagMessagesWarning))
    + p.withFieldLinks([kd.groupLink('__field.labels')])
    + p.withSize(12, 9),
    p.timeseries.new('Lag seconds of the most lagging groups', 's',
                     'Lag in seconds over time for the five groups that lag most at each instant.')
    + p.withTargets([t.new(
      'topk(5, max by (%s) (kafka_consumergroup_max_lag_seconds{%s}))' % [groupKey, c],
      '{{consumergroup}} ({{cluster}})'
    )])
    + p.withFieldLinks([kd.groupLink('__field.labels')])
    + p.withSize(24, 8),

    p.row.new('Active patterns'),
    kd.firingAlertsTable(P) + p.withSize(18, 8),
    p.stat.new('Firing alerts by severity', 'short',
               'Alerts of the pattern library firing now, per severity.', graph=false, textMode='value_and_name')
    + p.withTargets([t.new(
      'count by (severity) (%s)' % kd.alertsSelector(P), '{{severity}}'
    )])
    + p.withNoValue('none firing')
    + p.withThresholds(g.thresholds.absolute([['green'], ['orange', 1]]))
    + p.withSize(6, 8),

    p.row.new('Predicted breaches'),
    p.table.new('Lag predicted to grow (30 minutes)', 'short',
                'Group/topic pairs whose lag the forecast expects to grow over the next 30 minutes (the ten '
                + 'largest growths): current lag, forecast and upper bound of its prediction interval.')
    + p.withTargets([
      t.table(onGrowing(lag)),
      t.table(onGrowing(predicted('30m'))),
      t.table(onGrowing(predictedUpper('30m'))),
    ])
    + p.table.merge()
    + p.table.organize(
      exclude=['Time'],
      rename={
        'Value #A': 'Lag now',
        'Value #B': 'Predicted in 30m',
        'Value #C': 'Upper bound in 30m',
      },
      order=['cluster', 'consumergroup', 'topic', 'Value #A', 'Value #B', 'Value #C'],
    )
    + p.withOverrides([o.byName('consumergroup', [o.links([kd.groupLink()])])])
    + p.table.withSortBy('Predicted in 30m')
    + p.withSize(14, 8),
    p.bargauge.new('Retention breach ETA', 's',
                   'Predicted time until retention deletes the oldest unconsumed message of the group '
                   + '(kafka_consumergroup_retention_breach_seconds): below it, messages are lost. The ten '
                   + 'nearest breaches.')
    + p.withTargets([t.instant(
      'bottomk(10, min by (%s) (kafka_consumergroup_retention_breach_seconds{%s}))' % [gtKey, c],
      '{{consumergroup}} / {{topic}} ({{cluster}})'
    )])
    + p.withThresholds(g.thresholds.absolute([['red'], ['orange', retentionBreachWarning / 2], ['green', retentionBreachWarning]]))
    + p.withFieldLinks([kd.groupLink('__field.labels')])
    + p.withSize(10, 8),
    p.timeseries.new('Predicted lag in 30 minutes vs now', 'short',
                     'For the groups whose lag is forecast to grow most: the current lag (solid) and the '
                     + '30-minute forecast (dashed), per group and topic.')
    + p.withTargets([
      t.new(onGrowing(lag), 'now {{consumergroup}}/{{topic}}'),
      t.new(onGrowing(predicted('30m')), 'in 30m {{consumergroup}}/{{topic}}'),
    ])
    + p.withOverrides([o.byQuery('B', [o.dashed])])
    + p.withSize(24, 8),

    p.row.new('Exporter health'),
    p.stat.new('Snapshot age', 's',
               'Time since the stalest of the cluster, offsets and groups data served last succeeded, at '
               + 'scrape time; well above the collection interval means phases keep failing or the loop is stuck.')
    + p.withTargets([t.new('max by (cluster) (kafka_detective_snapshot_age_seconds{%s})' % c, '{{cluster}}')])
    + p.withThresholds(g.thresholds.levels(staleSeconds / 2, staleSeconds))
    + p.withSize(6, 4),
    p.stat.new('Since last successful cycle', 's',
               'Time since the last collection cycle in which every phase succeeded.')
    + p.withTargets([t.new(
      'time() - max by (cluster) (kafka_detective_last_successful_collection_timestamp_seconds{%s})' % c,
      '{{cluster}}'
    )])
    + p.withThresholds(g.thresholds.levels(staleSeconds / 2, staleSeconds))
    + p.withSize(6, 4),
    p.stat.new('Series rendered', 'short', 'Series the exporter rendered for the cluster in the last cycle.')
    + p.withTargets([t.new('sum by (cluster) (kafka_detective_series{%s})' % c, '{{cluster}}')])
    + p.withSize(6, 4),
    p.table.new('Exporter build', 'none', 'Version of the exporter and of its Python runtime (kafka_detective_build_info).')
    + p.withTargets([t.table('max by (version, python_version, kafka_python_version) (kafka_detective_build_info)')])
    + p.table.organize(exclude=['Time', 'Value'], rename={
      version: 'Version',
      python_version: 'Python',
      kafka_python_version: 'kafka-python',
    })
    + p.withSize(6, 4),
    p.timeseries.new('Collection duration per phase', 's',
                     'Duration of each phase of the last collection cycle (cluster, offsets, groups, '
                     + 'topic_configs, log_dirs, signals, analysis, render).', stack=true)
    + p.withTargets([t.new(
      'max by (cluster, phase) (kafka_detective_collection_duration_seconds{%s})' % c, '{{phase}} {{cluster}}'
    )])
    + p.withSize(8, 8),
    p.timeseries.new('Collection errors', 'short',
                     'Failed collection phases per interval. A failing phase keeps serving its previous data.',
                     bars=true)
    + p.withTargets([t.new(
      'sum by (cluster, phase) (increase(kafka_detective_collection_errors_total{%s}[$__rate_interval]))' % c,
      '{{phase}} {{cluster}}'
    )])
    + p.withSize(8, 8),
    p.timeseries.new('Kafka requests', 'reqps', 'Kafka requests the exporter sends, per API.')
    + p.withTargets([t.new(
      'sum by (cluster, api) (rate(kafka_detective_kafka_requests_total{%s}[$__rate_interval]))' % c,
      '{{api}} {{cluster}}'
    )])
    + p.withSize(8, 8),
    p.timeseries.new('Data age per phase', 's',
                     'Seconds since each phase last succeeded in full (kafka_detective_data_age_seconds, at '
                     + 'scrape time). A failed or partial phase keeps its previous data and its age grows; '
                     + 'KafkaDetectiveBlind fires when cluster, offsets or groups data gets too old. Dashed: the '
                     + 'same from the last-success timestamps.')
    + p.withTargets([
      t.new('max by (cluster, phase) (kafka_detective_data_age_seconds{%s})' % c, '{{phase}} {{cluster}}'),
      t.new('time() - max by (cluster, phase) (kafka_detective_last_success_timestamp_seconds{%s})' % c,
            'last success {{phase}} {{cluster}}'),
    ])
    + p.withOverrides([o.byQuery('B', [o.dashed])])
    + p.withSize(12, 8),
    p.timeseries.new('Forced metadata refreshes', 'short',
                     'Client metadata refreshes the exporter forced instead of waiting for the 5-minute refresh: '
                     + 'brokers = the cluster reported a live broker the client did not know (after restarts), '
                     + 'error = a phase failed with an error stale metadata explains.', bars=true)
    + p.withTargets([t.new(
      'sum by (cluster, reason) (increase(kafka_detective_metadata_refreshes_total{%s}[$__rate_interval]))' % c,
      '{{reason}} {{cluster}}'
    )])
    + p.withSize(12, 8),
  ])
