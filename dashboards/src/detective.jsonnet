// Detective: what does the analysis think is wrong, which signals are anomalous, which patterns fire, and where
// is the runbook for each of them?
local kd = import 'kd.libsonnet';
local g = kd.g;
local p = g.panel;
local o = p.override;
local t = g.target;
local gt = kd.sel.gt;

// Titles of the signals scored by the analysis (kafka_detective_anomaly_score{signal}); the list of signals
// comes from analysis/model.py ANOMALY_SIGNALS through the generator.
local signalTitles = {
  lag: 'lag (messages)',
  lag_seconds: 'lag (seconds)',
  consume_rate: 'consume rate',
  produce_rate: 'produce rate',
  rebalances: 'rebalances',
};

function(params={})
  local P = kd.params(params);
  local signals = [{ id: s, title: std.get(signalTitles, s, s) } for s in P.anomaly_signals];
  // Three per line; the panels of an incomplete last line share its width.
  local n = std.length(signals);
  local widthOf(i) = if n % 3 != 0 && i >= n - n % 3 then 24 / (n % 3) else 8;
  local score(signal) = 'max by (cluster, consumergroup, topic) (kafka_detective_anomaly_score{%s, signal="%s"})'
                        % [gt, signal];

  kd.dashboard(
    kd.dashboards.detective,
    "The analysis' view: current root-cause diagnoses with their confidence, anomaly scores per signal, the "
    + 'alert patterns firing now and the runbook of every pattern.',
    [kd.var.cluster(), kd.var.consumergroup(), kd.var.groupTopic],
    P,
  )
  + g.dashboard.withPanels([
    p.row.new('Diagnoses'),
    p.table.new('Current diagnoses', 'percentunit',
                'Probable root cause of the lag of every group/topic the analysis sees in trouble '
                + '(kafka_detective_diagnosis), with its confidence. Click a group to investigate it.')
    + p.withTargets([t.table('max by (cluster, consumergroup, topic, cause) (kafka_detective_diagnosis{%s})' % gt)])
    + p.table.organize(
      exclude=['Time'],
      rename={ Value: 'confidence' },
      order=['cluster', 'consumergroup', 'topic', 'cause', 'Value'],
    )
    + p.withOverrides([
      o.byName('confidence', [o.cellGauge]),
      o.byName('consumergroup', [o.links([kd.groupLink()])]),
    ])
    + p.withMinMax(0, 1)
    + p.withThresholds(g.thresholds.levels(0.5, 0.8))
    + p.table.withSortBy('confidence')
    + p.withSize(16, 9),
    p.bargauge.new('Diagnoses by cause', 'short', 'Group/topic pairs currently diagnosed with each root cause.')
    + p.withTargets([t.instant('count by (cause) (kafka_detective_diagnosis{%s})' % gt, '{{cause}}')])
    + p.withNoValue('no lag problem diagnosed')
    + p.withSize(8, 9),
    p.timeseries.new('Diagnosis confidence over time', 'percentunit',
                     'Confidence of each diagnosis over time: when a cause appeared, and whether the analysis '
                     + 'changed its mind.')
    + p.withTargets([t.new(
      'max by (cluster, consumergroup, topic, cause) (kafka_detective_diagnosis{%s})' % gt,
      '{{consumergroup}}/{{topic}}: {{cause}}'
    )])
    + p.withMinMax(0, 1)
    + p.withFieldLinks([kd.groupLink('__field.labels')])
    + p.withSize(15, 13),
    p.text.new('Root causes', 'What each cause of kafka_detective_diagnosis means (docs/architecture.md).',
               std.join('\n', ['| cause | meaning |', '|---|---|']
                              + ['| `%s` | %s |' % [c[0], c[1]] for c in P.root_causes]) + '\n')
    + p.withSize(9, 13),

    p.row.new('Anomaly scores'),
  ] + [
    p.timeseries.new('Anomaly score: %s' % s.title, 'percentunit',
                     'Calibrated 0-1 anomaly score of the %s signal per group and topic ' % s.id
                     + '(kafka_detective_anomaly_score). Near 1: far outside its usual range.')
    + p.withTargets([t.new(score(s.id), '{{consumergroup}}/{{topic}}')])
    + p.withMinMax(0, 1)
    + p.withThresholds(g.thresholds.levels(0.8, 0.95))
    + p.timeseries.withThresholdLines()
    + p.withFieldLinks([kd.groupLink('__field.labels')])
    + p.withSize(widthOf(i), 8)
    for i in std.range(0, n - 1)
    for s in [signals[i]]
  ] + [
    p.table.new('Most anomalous now', 'percentunit',
                'The 15 highest anomaly scores right now, any signal.')
    + p.withTargets([t.table(
      'topk(15, max by (cluster, consumergroup, topic, signal) (kafka_detective_anomaly_score{%s}))' % gt
    )])
    + p.table.organize(exclude=['Time'], rename={ Value: 'score' },
                       order=['cluster', 'consumergroup', 'topic', 'signal', 'Value'])
    + p.withOverrides([
      o.byName('score', [o.cellGauge]),
      o.byName('consumergroup', [o.links([kd.groupLink()])]),
    ])
    + p.withMinMax(0, 1)
    + p.withThresholds(g.thresholds.levels(0.8, 0.95))
    + p.table.withSortBy('score')
    + p.withSize(24, 8),

    p.row.new('Patterns'),
    kd.firingAlertsTable(P, extra='consumergroup=~"$consumergroup|"') + p.withSize(14, 9),
    p.timeseries.new('Firing patterns over time', 'short',
                     'Alerts of the pattern library firing over time, per alert name.', stack=true)
    + p.withTargets([t.new(
      'count by (alertname) (%s)' % kd.alertsSelector(P, 'consumergroup=~"$consumergroup|"'), '{{alertname}}'
    )])
    + p.withSize(10, 9),
    kd.runbookList(P),
  ])
