// Cluster (brokers & topics): is leadership balanced, is every partition replicated, are elections happening, will a
// disk fill up, and how are the topics configured?
local kd = import 'kd.libsonnet';
local g = kd.g;
local p = g.panel;
local o = p.override;
local t = g.target;
local c = kd.sel.c;
local b = kd.sel.b;  // cluster + broker_id
local ts = kd.sel.t;  // cluster + topic

function(params={})
  local P = kd.params(params);
  local skewRatio = kd.cfg(P, 'broker_skew_ratio', 1.5);
  local imbalance = kd.cfg(P, 'preferred_leader_imbalance_partitions', 10);
  local diskWarning = kd.cfg(P, 'disk_used_ratio_warning', 0.85);
  local diskFullHours = kd.cfg(P, 'disk_full_predict_hours', 4);
  local diskWindow = kd.cfg(P, 'disk_full_predict_window', '6h');

  local leaders = 'sum by (cluster, broker_id) (kafka_broker_leader_partitions{%s})' % b;
  // A broker's fair share: the cluster's leader partitions divided by its brokers.
  local fairShare = '(sum by (cluster) (kafka_broker_leader_partitions{%s}) / count by (cluster) (kafka_broker_info{%s}))'
                    % [c, c];
  local usedRatio =
    '1 - max by (cluster, broker_id, log_dir) (kafka_broker_log_dir_usable_bytes{%s}) / max by (cluster, broker_id, log_dir) (kafka_broker_log_dir_total_bytes{%s})'
    % [b, b];
  // Seconds until the usable bytes reach zero at the trend of the last `diskWindow`; only for shrinking volumes.
  local timeToFull =
    '(max by (cluster, broker_id, log_dir) (kafka_broker_log_dir_usable_bytes{%s}) / -max by (cluster, broker_id, log_dir) (deriv(kafka_broker_log_dir_usable_bytes{%s}[%s]))) > 0'
    % [b, b, diskWindow];
  local partitionFilter(metric) = '%s{%s}' % [metric, ts];

  kd.dashboard(
    kd.dashboards.cluster,
    'Brokers and topics of one cluster: leadership balance against the fair share, preferred-leader '
    + 'imbalance, replication (ISR, under-replicated, offline), leader elections, log-dir usage and time to '
    + 'full, and the retention settings of every topic.',
    [kd.var.cluster(multi=false), kd.var.broker, kd.var.topic],
    P,
  )
  + g.dashboard.withPanels([
    p.row.new('Brokers'),
    p.stat.new('Brokers', 'short', 'Brokers in the cluster metadata.')
    + p.withTargets([t.new('sum(kafka_brokers{%s})' % c, 'brokers')])
    + p.withThresholds(g.thresholds.atLeast(1)),
    p.stat.new('Controller', 'none', 'Broker that is the active controller.', graph=false, textMode='name')
    + p.withTargets([t.new('max by (broker_id) (kafka_broker_is_controller{%s}) == 1' % c, 'broker {{broker_id}}')]),
    p.stat.new('Partitions', 'short', 'Partitions of the selected topics.')
    + p.withTargets([t.new('sum(kafka_topic_partitions{%s})' % ts, 'partitions')]),
    p.stat.new('Not led by the preferred replica', 'short',
               'Partitions of the selected topics whose leader is not the preferred (first) replica; a '
               + 'preferred-leader election moves leadership back.')
    + p.withTargets([t.new('sum(1 - kafka_topic_partition_leader_is_preferred{%s})' % ts
                           + ' or sum(kafka_topic_partitions{%s}) - sum(kafka_topic_preferred_leader_partitions{%s})' % [ts, ts],
                           'partitions')])
    + p.withThresholds(g.thresholds.levels(1, imbalance)),
    p.stat.new('Log dir errors', 'short', 'Log directories the brokers report in error.')
    + p.withTargets([t.new('sum(kafka_broker_log_dir_error{%s})' % b, 'errors')])
    + p.withThresholds(g.thresholds.levels(1, 1)),
    p.stat.new('Offline replicas', 'short', 'Replicas of the selected topics on brokers that are offline.')
    + p.withTargets([t.new('sum(kafka_topic_partition_offline_replicas{%s})' % ts, 'offline replicas')])
    + p.withThresholds(g.thresholds.levels(1, 1)),
    p.table.new('Broker inventory', 'short',
                'Every broker: host, port, rack, partitions it leads and partitions it is the preferred leader of.')
    + p.withTargets([
      t.table('max by (broker_id, host, port, rack) (kafka_broker_info{%s})' % b),
      t.table('sum by (broker_id) (kafka_broker_leader_partitions{%s})' % b),
      t.table('sum by (broker_id) (kafka_broker_preferred_leader_partitions{%s})' % b),
      t.table('max by (broker_id) (kafka_broker_is_controller{%s})' % b),
    ])
    + p.table.merge()
    + p.table.organize(
      exclude=['Time', 'Value #A'],
      rename={ 'Value #B': 'leader partitions', 'Value #C': 'preferred leader of', 'Value #D': 'controller' },
      order=['broker_id', 'host', 'port', 'rack', 'Value #B', 'Value #C', 'Value #D'],
    )
    + p.withOverrides([
      o.byName('controller', [o.unit('none'), o.mappings([g.mapping.values({ '0': ['', 'text'], '1': ['controller', 'blue'] })])]),
    ])
    + p.withSize(24, 6),

    p.row.new('Leadership'),
    p.timeseries.new('Leader partitions per broker vs fair share', 'short',
                     'Partitions each broker leads, against its fair share (leader partitions / brokers, dashed). '
                     + 'A broker far above it carries more produce and fetch load than the others.')
    + p.withTargets([
      t.new(leaders, 'broker {{broker_id}}'),
      t.new('sum by (cluster) (kafka_broker_leader_partitions{%s}) / count by (cluster) (kafka_broker_info{%s})' % [c, c],
            'fair share'),
    ])
    + p.withOverrides([o.byQuery('B', [o.dashed, o.color('text'), o.fillOpacity(0)])])
    + p.withMinMax(min=0),
    p.bargauge.new('Leadership share (100% = fair share)', 'percentunit',
                   'Leader partitions of each broker divided by the fair share. The broker-skew alert fires above '
                   + '%s.' % skewRatio)
    + p.withTargets([t.instant('%s / on (cluster) group_left () %s' % [leaders, fairShare], 'broker {{broker_id}}')])
    + p.withThresholds(g.thresholds.levels((1 + skewRatio) / 2, skewRatio))
    + p.withMinMax(0, 2),
    p.timeseries.new('Preferred-leader imbalance per broker', 'short',
                     'Partitions a broker leads minus partitions it is the preferred leader of. Positive: it took '
                     + 'over leadership from others (after a restart or failure); a preferred-leader election '
                     + 'restores the balance.')
    + p.withTargets([t.new(
      'sum by (broker_id) (kafka_broker_leader_partitions{%s}) - sum by (broker_id) (kafka_broker_preferred_leader_partitions{%s})'
      % [b, b],
      'broker {{broker_id}}'
    )])
    + p.withThresholds(g.thresholds.levels(imbalance, 2 * imbalance))
    + p.timeseries.withThresholdLines(),
    p.timeseries.new('Leader changes', 'short',
                     'Partition leader changes per interval and topic (leader-epoch increases). Many topics at once '
                     + 'point to a broker failure or restart.', bars=true, stack=true)
    + p.withTargets([t.new(
      '(sum by (topic) (increase(kafka_topic_partition_leader_changes_total{%s}[$__rate_interval]))' % ts
      + ' or sum by (topic) (increase(kafka_topic_leader_changes_total{%s}[$__rate_interval]))) > 0' % ts,
      '{{topic}}'
    )]),

    p.row.new('Replication'),
    p.stat.new('Under-replicated partitions', 'short', 'Partitions with fewer in-sync replicas than replicas.')
    + p.withTargets([t.new('sum(kafka_topic_partition_under_replicated_partition{%s})' % ts
                           + ' or sum(kafka_topic_under_replicated_partitions{%s})' % ts, 'under-replicated')])
    + p.withThresholds(g.thresholds.levels(1, 10))
    + p.withSize(8, 4),
    p.stat.new('Under min ISR partitions', 'short',
               "Partitions whose in-sync replicas are fewer than the topic's min.insync.replicas: acks=all "
               + 'producers fail.')
    + p.withTargets([t.new('sum(kafka_topic_partition_under_min_isr{%s})' % ts
                           + ' or sum(kafka_topic_under_min_isr_partitions{%s})' % ts, 'under min ISR')])
    + p.withThresholds(g.thresholds.levels(1, 1))
    + p.withSize(8, 4),
    p.stat.new('Offline partitions', 'short', 'Partitions without a leader.')
    + p.withTargets([t.new('sum(kafka_topic_partition_offline{%s}) or sum(kafka_topic_offline_partitions{%s})' % [ts, ts],
                           'offline')])
    + p.withThresholds(g.thresholds.levels(1, 1))
    + p.withSize(8, 4),
    p.timeseries.new('Under-replicated partitions by topic', 'short',
                     'Under-replicated partitions per topic (topics with none are hidden).')
    + p.withTargets([t.new(
      '(sum by (topic) (kafka_topic_partition_under_replicated_partition{%s})' % ts
      + ' or sum by (topic) (kafka_topic_under_replicated_partitions{%s})) > 0' % ts, '{{topic}}'
    )]),
    p.table.new('Partitions with reduced ISR', 'short',
                'Partitions whose in-sync replicas are fewer than their replicas: replicas, in-sync replicas, '
                + 'offline replicas and leader (-1: none).')
    + p.withTargets([
      t.table('max by (topic, partition) (kafka_topic_partition_replicas{%s})' % ts
              + ' and on (topic, partition) max by (topic, partition) (kafka_topic_partition_under_replicated_partition{%s} == 1)' % ts),
      t.table('max by (topic, partition) (kafka_topic_partition_in_sync_replica{%s})' % ts
              + ' and on (topic, partition) max by (topic, partition) (kafka_topic_partition_under_replicated_partition{%s} == 1)' % ts),
      t.table('max by (topic, partition) (kafka_topic_partition_offline_replicas{%s})' % ts
              + ' and on (topic, partition) max by (topic, partition) (kafka_topic_partition_under_replicated_partition{%s} == 1)' % ts),
      t.table('max by (topic, partition) (kafka_topic_partition_leader{%s})' % ts
              + ' and on (topic, partition) max by (topic, partition) (kafka_topic_partition_under_replicated_partition{%s} == 1)' % ts),
    ])
    + p.table.merge()
    + p.table.organize(
      exclude=['Time'],
      rename={ 'Value #A': 'replicas', 'Value #B': 'in sync', 'Value #C': 'offline replicas', 'Value #D': 'leader' },
      order=['topic', 'partition', 'Value #A', 'Value #B', 'Value #C', 'Value #D'],
    )
    + p.withOverrides([o.byName('leader', [o.unit('none')])]),

    p.row.new('Disk'),
    p.timeseries.new('Log-dir volume used', 'percentunit',
                     'Used fraction of the volume holding each log directory (when the broker reports volume '
                     + 'sizes). Dashed line: the disk alert threshold.')
    + p.withTargets([t.new(usedRatio, 'broker {{broker_id}} {{log_dir}}')])
    + p.withThresholds(g.thresholds.levels(diskWarning - 0.1, diskWarning))
    + p.timeseries.withThresholdLines()
    + p.withMinMax(0, 1)
    + p.withSize(6, 8),
    p.timeseries.new('Free space and its forecast', 'bytes',
                     'Usable bytes of each log-dir volume (solid) and where the trend of the last %s puts them '
                     % diskWindow + '%s hours later (predict_linear, dashed). A dashed line at zero means the ' % diskFullHours
                     + 'volume fills up within that time.')
    + p.withTargets([
      t.new('max by (broker_id, log_dir) (kafka_broker_log_dir_usable_bytes{%s})' % b, 'broker {{broker_id}} {{log_dir}}'),
      t.new('max by (broker_id, log_dir) (predict_linear(kafka_broker_log_dir_usable_bytes{%s}[%s], %d))'
            % [b, diskWindow, diskFullHours * 3600], 'in %sh: broker {{broker_id}} {{log_dir}}' % diskFullHours),
    ])
    + p.withOverrides([o.byQuery('B', [o.dashed])])
    + p.withSize(6, 8),
    p.bargauge.new('Predicted time to full', 's',
                   'Time until the volume of each log directory is full at the trend of the last %s '
                   % diskWindow + '(usable bytes / their rate of decrease). Only shrinking volumes are shown; the '
                   + 'disk-full alert fires below %s hours.' % diskFullHours)
    + p.withTargets([t.instant('bottomk(10, %s)' % timeToFull, 'broker {{broker_id}} {{log_dir}}')])
    + p.withThresholds(g.thresholds.absolute([['red'], ['orange', diskFullHours * 3600], ['green', diskFullHours * 3600 * 6]]))
    + p.withNoValue('no volume is filling up')
    + p.withSize(6, 8),
    p.timeseries.new('Bytes used by partition replicas', 'bytes',
                     'Bytes used by the partition replicas in each log directory.')
    + p.withTargets([t.new(
      'sum by (broker_id, log_dir) (kafka_broker_log_dir_size_bytes{%s})' % b, 'broker {{broker_id}} {{log_dir}}'
    )])
    + p.withSize(6, 8),

    p.row.new('Topics'),
    p.table.new('Topic settings', 'short',
                'Partitions, replication factor, min.insync.replicas, retention (time and bytes per partition; '
                + 'empty when unlimited) and cleanup policy of the selected topics.')
    + p.withTargets([
      t.table('max by (topic) (kafka_topic_partitions{%s})' % ts),
      t.table('max by (topic) (kafka_topic_partition_replicas{%s})' % ts),
      t.table('max by (topic) (kafka_topic_min_insync_replicas{%s})' % ts),
      t.table('max by (topic) (kafka_topic_retention_seconds{%s})' % ts),
      t.table('max by (topic) (kafka_topic_retention_bytes{%s})' % ts),
      t.table('max by (topic, cleanup_policy) (kafka_topic_info{%s})' % ts),
    ])
    + p.table.merge()
    + p.table.organize(
      exclude=['Time', 'Value #F'],
      rename={
        'Value #A': 'partitions',
        'Value #B': 'replication factor',
        'Value #C': 'min ISR',
        'Value #D': 'retention',
        'Value #E': 'retention bytes',
        cleanup_policy: 'cleanup policy',
      },
      order=['topic', 'Value #A', 'Value #B', 'Value #C', 'Value #D', 'Value #E', 'cleanup_policy'],
    )
    + p.withOverrides([
      o.byName('retention', [o.unit('s')]),
      o.byName('retention bytes', [o.unit('bytes')]),
    ])
    + p.table.withSortBy('topic', desc=false)
    + p.withSize(14, 10),
    p.timeseries.new('Produce rate by topic (top 10)', 'msg/s',
                     'Messages appended per second to the ten busiest selected topics (exporter estimate).')
    + p.withTargets([t.new(
      'topk(10, sum by (topic) (kafka_topic_produce_rate_messages_per_second{%s}))' % ts, '{{topic}}'
    )])
    + p.withSize(10, 10),
  ])
