// Consumer group investigation: why does this group lag, since when, where is it heading, and is data lost?
local kd = import 'kd.libsonnet';
local g = kd.g;
local p = g.panel;
local o = p.override;
local t = g.target;
local gsel = kd.sel.g;  // cluster + consumergroup
local gt = kd.sel.gt;  // cluster + consumergroup + topic

function(params={})
  local P = kd.params(params);
  local lagSecondsWarning = kd.cfg(P, 'lag_seconds_warning', 300);
  local lagSecondsCritical = kd.cfg(P, 'lag_seconds_critical', 1800);
  local lagMessagesWarning = kd.cfg(P, 'lag_messages_warning', 10000);
  local retentionBreachWarning = kd.cfg(P, 'retention_breach_seconds_warning', 3600);
  local rebalanceThreshold = kd.cfg(P, 'rebalance_threshold', 5);

  // Series of the topics the selected group consumes (topic-level metrics carry no consumergroup label).
  local groupTopics = 'group by (cluster, topic) (kafka_consumergroup_lag_sum{%s})' % gt;
  local ofGroupTopics(metric, extra='') =
    '%s{cluster=~"$cluster", topic=~"$topic"%s} and on (cluster, topic) %s' % [metric, extra, groupTopics];
  local ofGroupPartitions(metric) =
    '%s{cluster=~"$cluster", topic=~"$topic"} and on (cluster, topic, partition) kafka_consumergroup_lag{%s}'
    % [metric, gt];

  kd.dashboard(
    kd.dashboards.group,
    'One consumer group, topic by topic: lag in messages and seconds, the lag forecast and its band, produce '
    + 'vs consume rates, rebalances, state and members, per-partition lag, messages lost to retention, the '
    + "analysis' diagnosis and the alerts that fired.",
    [kd.var.cluster(multi=false), kd.var.consumergroup(multi=false), kd.var.groupTopic],
    P,
    annotationMatchers='consumergroup=~"$consumergroup|"',
  )
  + g.dashboard.withPanels([
    p.row.new('Lag'),
    p.stat.new('Lag (messages)', 'short', 'Messages not yet consumed by the group, summed over the selected topics.')
    + p.withTargets([t.new('sum(kafka_consumergroup_lag_sum{%s})' % gt, 'lag')])
    + p.withThresholds(g.thresholds.levels(lagMessagesWarning, 10 * lagMessagesWarning)),
    p.stat.new('Lag (seconds)', 's', 'Age of the oldest unconsumed message over the selected topics.')
    + p.withTargets([t.new('max(kafka_consumergroup_max_lag_seconds{%s})' % gt, 'lag seconds')])
    + p.withThresholds(g.thresholds.levels(lagSecondsWarning, lagSecondsCritical)),
    p.stat.new('Catch-up ETA', 's',
               'Predicted time until the lag reaches zero (slowest selected topic); no value when the group is '
               + 'not catching up.', graph=false)
    + p.withTargets([t.new('max(kafka_consumergroup_catch_up_seconds{%s})' % gt, 'catch up')])
    + p.withNoValue('not catching up')
    + p.withThresholds(g.thresholds.levels(lagSecondsWarning, lagSecondsCritical)),
    p.stat.new('Retention breach ETA', 's',
               'Predicted time until retention deletes the oldest unconsumed message (nearest selected topic). '
               + 'No value when the topic has no time-based retention or the group keeps up.', graph=false)
    + p.withTargets([t.new('min(kafka_consumergroup_retention_breach_seconds{%s})' % gt, 'breach')])
    + p.withNoValue('no breach predicted')
    + p.withThresholds(g.thresholds.absolute([['red'], ['orange', retentionBreachWarning / 2], ['green', retentionBreachWarning]])),
    p.stat.new('Members', 'short', 'Members of the group; 0 (state Empty) means no consumer is running.')
    + p.withTargets([t.new('max(kafka_consumergroup_members{%s})' % gsel, 'members')])
    + p.withThresholds(g.thresholds.atLeast(1)),
    p.stat.new('State', 'none', 'Current state of the group (Stable, Empty, PreparingRebalance, ...).',
               graph=false, textMode='name')
    + p.withTargets([t.new('max by (state) (kafka_consumergroup_state{%s}) == 1' % gsel, '{{state}}')])
    + p.withOverrides([
      o.byRegexp('Stable', [o.color('green')]),
      o.byRegexp('Empty|Dead', [o.color('red')]),
      o.byRegexp('PreparingRebalance|CompletingRebalance|Assigning|Reconciling', [o.color('orange')]),
    ]),
    p.timeseries.new('Lag by topic (messages)', 'short', 'Lag of the group per topic (kafka_consumergroup_lag_sum).')
    + p.withTargets([t.new('sum by (topic) (kafka_consumergroup_lag_sum{%s})' % gt, '{{topic}}')])
    + p.withThresholds(g.thresholds.levels(lagMessagesWarning, 10 * lagMessagesWarning))
    + p.timeseries.withThresholdLines(),
    p.timeseries.new('Lag by topic (seconds)', 's',
                     'Age of the oldest unconsumed message per topic (kafka_consumergroup_max_lag_seconds). '
                     + 'Dashed lines: the warning and critical alert thresholds.')
    + p.withTargets([t.new('max by (topic) (kafka_consumergroup_max_lag_seconds{%s})' % gt, '{{topic}}')])
    + p.withThresholds(g.thresholds.levels(lagSecondsWarning, lagSecondsCritical))
    + p.timeseries.withThresholdLines(),

    p.row.new('Forecast'),
    p.timeseries.new('Predicted lag band', 'short',
                     'Current lag (solid), the forecast lag at each horizon (5m, 15m, 30m; dashed) and the lower and '
                     + "upper bounds of the forecast's prediction interval (dotted; shaded above). A forecast drawn at time t is "
                     + 'for t + horizon.')
    + p.withTargets([
      t.new('sum by (topic) (kafka_consumergroup_lag_sum{%s})' % gt, 'now {{topic}}'),
      t.new('sum by (topic, horizon) (kafka_consumergroup_predicted_lag{%s})' % gt, 'predicted {{horizon}} {{topic}}'),
      t.new('sum by (topic, horizon) (kafka_consumergroup_predicted_lag_upper{%s})' % gt, 'upper {{horizon}} {{topic}}'),
      t.new('sum by (topic, horizon) (kafka_consumergroup_predicted_lag_lower{%s})' % gt, 'lower {{horizon}} {{topic}}'),
    ])
    + p.withOverrides([
      o.byQuery('A', [o.lineWidth(2)]),
      o.byQuery('B', [o.dashed, o.fillOpacity(0)]),
      o.byQuery('C', [o.dotted, o.fillOpacity(15)]),
      o.byQuery('D', [o.dotted, o.fillOpacity(0)]),
    ])
    + p.withSize(16, 9),
    p.timeseries.new('Forecast check (30m)', 'short',
                     'The 30-minute forecast made 30 minutes ago (dashed) against the lag that happened (solid): '
                     + 'how far to trust the forecast for this group.')
    + p.withTargets([
      t.new('sum by (topic) (kafka_consumergroup_lag_sum{%s})' % gt, 'actual {{topic}}'),
      t.new('sum by (topic) (kafka_consumergroup_predicted_lag{%s, horizon="30m"} offset 30m)' % gt,
            'forecast from 30m ago {{topic}}'),
    ])
    + p.withOverrides([o.byQuery('B', [o.dashed])])
    + p.withSize(8, 9),
    p.timeseries.new('Lag growth', 'short',
                     'Trend the forecaster found in the lag (messages/s: produce minus the consumers\' capacity) and '
                     + 'in the age of the oldest unconsumed message (seconds per second). 0 while the lag has no '
                     + 'significant trend; the predictive lag alert divides the distance to its threshold by these.')
    + p.withTargets([
      t.new('max by (topic) (kafka_consumergroup_lag_growth_rate{%s})' % gt, 'messages/s {{topic}}'),
      t.new('max by (topic) (kafka_consumergroup_lag_seconds_growth_rate{%s})' % gt, 'seconds/s {{topic}}'),
    ])
    + p.withSize(24, 7),

    p.row.new('Throughput'),
    p.timeseries.new('Produce vs consume rate', 'msg/s',
                     "Messages appended per second to the group's topics (produce, exporter estimate) against "
                     + 'messages the group commits per second (consume). Lag grows while produce is above consume.')
    + p.withTargets([
      t.new('sum by (topic) (%s)' % ofGroupTopics('kafka_topic_produce_rate_messages_per_second'), 'produce {{topic}}'),
      t.new('sum by (topic) (kafka_consumergroup_consume_rate_messages_per_second{%s})' % gt, 'consume {{topic}}'),
    ])
    + p.withOverrides([o.byQuery('A', [o.dashed])]),
    p.timeseries.new('Offset rates seen by Prometheus', 'msg/s',
                     'The same rates computed by Prometheus from the offsets: log-end offsets (produce) and '
                     + 'committed offsets (consume). A cross-check of the exporter estimates.')
    + p.withTargets([
      t.new('sum by (topic) (rate(kafka_topic_partition_current_offset{cluster=~"$cluster", topic=~"$topic"}[$__rate_interval]) and on (cluster, topic) %s)' % groupTopics
            + ' or sum by (topic) (rate(kafka_topic_current_offset{cluster=~"$cluster", topic=~"$topic"}[$__rate_interval]) and on (cluster, topic) %s)' % groupTopics,
            'produce {{topic}}'),
      t.new('sum by (topic) (rate(kafka_consumergroup_current_offset_sum{%s}[$__rate_interval]))' % gt,
            'consume {{topic}}'),
    ])
    + p.withOverrides([o.byQuery('A', [o.dashed])]),

    p.row.new('Membership and rebalances'),
    p.timeseries.new('Rebalances', 'short',
                     'Rebalances per interval (group-epoch increases for KIP-848 groups; state, membership or '
                     + 'assignment changes for classic groups). Dashed line: the rebalance-storm threshold.',
                     bars=true)
    + p.withTargets([t.new(
      'sum by (consumergroup) (increase(kafka_consumergroup_rebalances_total{%s}[$__rate_interval]))' % gsel,
      'rebalances'
    )])
    + p.withThresholds(g.thresholds.levels(rebalanceThreshold, rebalanceThreshold * 2))
    + p.timeseries.withThresholdLines()
    + p.withSize(8, 8),
    p.stateTimeline.new('Group state', 'none', 'State of the group over time.')
    + p.withTargets([t.new('max by (state) (kafka_consumergroup_state{%s}) == 1' % gsel, '{{state}}')])
    + p.withMappings([g.mapping.values({ '1': ['current', 'blue'] })])
    + p.withSize(8, 8),
    p.timeseries.new('Members', 'short', 'Members of the group, and the group epoch of KIP-848 groups (right axis).')
    + p.withTargets([
      t.new('max(kafka_consumergroup_members{%s})' % gsel, 'members'),
      t.new('max(kafka_consumergroup_epoch{%s})' % gsel, 'group epoch'),
    ])
    + p.withOverrides([o.byQuery('B', [{ id: 'custom.axisPlacement', value: 'right' }, o.dashed])])
    + p.withMinMax(min=0)
    + p.withSize(8, 8),
    p.table.new('Group', 'none', 'Protocol (classic or consumer, KIP-848), assignor and coordinator of the group.')
    + p.withTargets([t.table('max by (cluster, consumergroup, protocol, assignor, coordinator_id) (kafka_consumergroup_info{%s})' % gsel)])
    + p.table.organize(exclude=['Time', 'Value'])
    + p.withSize(24, 4),

    p.row.new('Partitions'),
    p.table.new('Per-partition lag', 'short',
                'Every partition of the selected topics: lag in messages and seconds, committed and log-end '
                + 'offsets, messages lost to retention.')
    + p.withTargets([
      t.table('max by (topic, partition) (kafka_consumergroup_lag{%s})' % gt),
      t.table('max by (topic, partition) (kafka_consumergroup_lag_seconds{%s})' % gt),
      t.table('max by (topic, partition) (kafka_consumergroup_current_offset{%s})' % gt),
      t.table('max by (topic, partition) (%s)' % ofGroupPartitions('kafka_topic_partition_current_offset')),
      t.table('max by (topic, partition) (kafka_consumergroup_lost_messages{%s})' % gt),
    ])
    + p.table.merge()
    + p.table.organize(
      exclude=['Time'],
      rename={
        'Value #A': 'lag',
        'Value #B': 'lag seconds',
        'Value #C': 'committed offset',
        'Value #D': 'log-end offset',
        'Value #E': 'lost messages',
      },
      order=['topic', 'partition', 'Value #A', 'Value #B', 'Value #C', 'Value #D', 'Value #E'],
    )
    + p.withOverrides([
      o.byName('lag seconds', [o.unit('s')]),
      o.byName('committed offset', [o.unit('none')]),
      o.byName('log-end offset', [o.unit('none')]),
      o.byName('lag', [o.cellGauge]),
    ])
    + p.table.withSortBy('lag')
    + p.withSize(14, 10),
    p.timeseries.new('Per-partition lag (top 20)', 'short',
                     'Lag of the 20 most lagging partitions: one partition far above the others points to a '
                     + 'stuck consumer or a hot key, all partitions together to the group as a whole.')
    + p.withTargets([t.new('topk(20, max by (topic, partition) (kafka_consumergroup_lag{%s}))' % gt,
                           '{{topic}}/{{partition}}')])
    + p.withSize(10, 10),
    p.timeseries.new('Partitions with reduced confidence', 'short',
                     'Partitions without a committed offset (no lag series), and partitions whose lag in seconds '
                     + 'is extrapolated beyond the offset history (a lower-confidence estimate).')
    + p.withTargets([
      t.new('sum by (topic) (kafka_consumergroup_uncommitted_partitions{%s})' % gt, 'uncommitted {{topic}}'),
      t.new('sum by (topic) (kafka_consumergroup_lag_seconds_extrapolated_partitions{%s})' % gt,
            'extrapolated {{topic}}'),
    ])
    + p.withMinMax(min=0)
    + p.withSize(24, 6),

    p.row.new('Data loss'),
    p.stat.new('Messages lost now', 'short',
               'Messages deleted by retention before the group consumed them, for partitions where the committed '
               + 'offset is below the log-start offset now.')
    + p.withTargets([t.new('sum(kafka_consumergroup_lost_messages{%s})' % gt, 'lost')])
    + p.withThresholds(g.thresholds.levels(1, 1))
    + p.withSize(6, 8),
    p.timeseries.new('Messages lost to retention', 'short',
                     'Messages deleted by retention before the group consumed them, per interval and topic.', bars=true)
    + p.withTargets([t.new(
      'sum by (topic) (increase(kafka_consumergroup_lost_messages_total{%s}[$__rate_interval]))' % gt, '{{topic}}'
    )])
    + p.withSize(9, 8),
    p.timeseries.new('Lag seconds vs retention', 's',
                     'Age of the oldest unconsumed message against the retention time of the topic: when the lag '
                     + 'reaches retention, messages are deleted before they are consumed.')
    + p.withTargets([
      t.new('max by (topic) (kafka_consumergroup_max_lag_seconds{%s})' % gt, 'lag {{topic}}'),
      t.new('max by (topic) (%s)' % ofGroupTopics('kafka_topic_retention_seconds'), 'retention {{topic}}'),
    ])
    + p.withOverrides([o.byQuery('B', [o.dashed, o.fillOpacity(0)])])
    + p.withSize(9, 8),

    p.row.new('Diagnosis'),
    p.table.new('Probable cause', 'percentunit',
                "The analysis' current diagnosis of the group's lag per topic: root cause and confidence. Empty "
                + 'while the analysis sees no lag problem. The Detective dashboard explains the causes.')
    + p.withTargets([t.table('max by (topic, cause) (kafka_detective_diagnosis{%s})' % gt)])
    + p.table.organize(exclude=['Time'], rename={ Value: 'confidence' }, order=['topic', 'cause', 'Value'])
    + p.withOverrides([o.byName('confidence', [o.cellGauge])])
    + p.withMinMax(0, 1)
    + p.withThresholds(g.thresholds.levels(0.5, 0.8))
    + p.table.withSortBy('confidence')
    + p.withLinks([g.link.data('Detective dashboard', kd.dashboardUrl(kd.dashboards.detective, [
      'var-cluster=${cluster}', 'var-consumergroup=${consumergroup}',
    ]))])
    + p.withSize(10, 8),
    p.timeseries.new('Anomaly scores', 'percentunit',
                     'Calibrated 0-1 anomaly score of each signal (produce_rate, consume_rate, lag, lag_seconds, '
                     + 'rebalances), highest over the selected topics. Near 1: the signal is far outside its '
                     + 'usual range.')
    + p.withTargets([t.new('max by (signal) (kafka_detective_anomaly_score{%s})' % gt, '{{signal}}')])
    + p.withMinMax(0, 1)
    + p.withThresholds(g.thresholds.levels(0.8, 0.95))
    + p.timeseries.withThresholdLines()
    + p.withSize(14, 8),
  ])
