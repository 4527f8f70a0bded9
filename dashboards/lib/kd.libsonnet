// Kafka Detective conventions shared by the four dashboards: uids, variables, selectors, links, annotations
// and the pattern-library parameters handed in by `kafka_detective.patterns.dashboards.build_dashboards`.
//
// Every dashboard source is `function(params={}) ...`; `params` is the JSON the generator passes as the
// top-level argument (see `defaults` for its shape). Sources compile on their own too (empty library).

local g = import 'grafana.libsonnet';

{
  g:: g,

  tag:: 'kafka-detective',

  // Stable uids and titles: alert annotations (`dashboard_url`), links between the dashboards and bookmarks use
  // them. The uid is also the file name: dashboards/src/<name>.jsonnet -> dashboards/kafka-detective-<name>.json.
  dashboards:: {
    overview: { uid: 'kafka-detective-overview', title: 'Kafka Detective / Overview' },
    group: { uid: 'kafka-detective-consumer-groups', title: 'Kafka Detective / Consumer group investigation' },
    cluster: { uid: 'kafka-detective-cluster', title: 'Kafka Detective / Cluster: brokers & topics' },
    detective: { uid: 'kafka-detective-detective', title: 'Kafka Detective / Detective' },
  },

  // The generator's top-level argument.
  defaults:: {
    // Every alert of the pattern library, sorted by name:
    // {alert, severity, summary, runbook_url, pattern}.
    alerts: [],
    runbook_base_url: '',
    // A Grafana data-link URL that opens the runbook of `${__data.fields.alertname}`, when every runbook URL of
    // the library follows one scheme (else null and the firing-alerts tables link to the Detective's list).
    runbook_link_template: null,
    // The scalar keys of patterns/config.yaml: panels use the alert thresholds (see `cfg`).
    config: {},
    // [cause, meaning] of analysis/model.py ROOT_CAUSES and the signals of ANOMALY_SIGNALS.
    root_causes: [],
    anomaly_signals: ['produce_rate', 'consume_rate', 'lag', 'lag_seconds', 'rebalances'],
  },
  params(p):: $.defaults + p,
  // A threshold of patterns/config.yaml, or `default` when the library does not define it.
  cfg(params, key, default):: std.get(params.config, key, default),

  // ---------------------------------------------------------------------------------------------------------
  // Variables.
  var:: {
    datasource: g.variable.datasource(),
    cluster(multi=true):: g.variable.query(
      'cluster', 'Cluster', 'label_values(kafka_detective_cluster_up, cluster)',
      multi=multi, includeAll=multi, description='The `cluster` label of the exporter configuration.'
    ),
    consumergroup(multi=true):: g.variable.query(
      'consumergroup', 'Consumer group',
      'label_values(kafka_consumergroup_members{cluster=~"$cluster"}, consumergroup)',
      multi=multi, includeAll=multi,
    ),
    // Topics the selected groups consume.
    groupTopic:: g.variable.query(
      'topic', 'Topic',
      'label_values(kafka_consumergroup_lag_sum{cluster=~"$cluster", consumergroup=~"$consumergroup"}, topic)',
    ),
    // Every topic of the cluster.
    topic:: g.variable.query('topic', 'Topic', 'label_values(kafka_topic_partitions{cluster=~"$cluster"}, topic)'),
    // Variable names are label names: alert annotations link here with `var-<label>={{ $labels.<label> }}`.
    broker:: g.variable.query('broker_id', 'Broker', 'label_values(kafka_broker_info{cluster=~"$cluster"}, broker_id)'),
  },

  // ---------------------------------------------------------------------------------------------------------
  // Label matchers.
  sel:: {
    c: 'cluster=~"$cluster"',
    g: 'cluster=~"$cluster", consumergroup=~"$consumergroup"',
    gt: 'cluster=~"$cluster", consumergroup=~"$consumergroup", topic=~"$topic"',
    t: 'cluster=~"$cluster", topic=~"$topic"',
    b: 'cluster=~"$cluster", broker_id=~"$broker_id"',
  },

  // `ALERTS` of the library's alerts only (other alerts of the same Prometheus stay out). Alerts without a
  // `cluster` label (the exporter being down, for example) are kept.
  alertsSelector(params, extra=''):: std.format(
    'ALERTS{alertstate="firing", alertname=~"%s", cluster=~"$cluster|"%s}',
    [$.alertNamesRegex(params), if extra == '' then '' else ', ' + extra]
  ),
  alertNamesRegex(params)::
    local names = [a.alert for a in params.alerts];
    if std.length(names) == 0 then '.+' else std.join('|', names),

  // ---------------------------------------------------------------------------------------------------------
  // Links.
  dashboardLinks:: [g.link.dashboards('Kafka Detective', [$.tag])],
  // Data link to another dashboard of the bundle; `vars` is a list of `var-x=...` query parts.
  dashboardUrl(d, vars=[]):: std.format(
    '/d/%s?%s', [d.uid, std.join('&', ['var-datasource=${datasource}'] + vars + ['${__url_time_range}'])]
  ),
  // From a table row or series carrying cluster and consumergroup to the group investigation dashboard.
  groupLink(field='__data.fields'):: g.link.data(
    'Investigate ${%s.consumergroup}' % field,
    $.dashboardUrl($.dashboards.group, [
      'var-cluster=${%s.cluster}' % field,
      'var-consumergroup=${%s.consumergroup}' % field,
    ])
  ),
  // The runbook of the alert named in the row's alertname field.
  runbookLink(params)::
    if params.runbook_link_template != null then
      g.link.data('Runbook of ${__data.fields.alertname}', params.runbook_link_template, blank=true)
    else
      g.link.data('Runbooks of every pattern', $.dashboardUrl($.dashboards.detective) + '&viewPanel=' + $.runbookPanelId),
  // Id of the runbook list on the Detective dashboard (checked by the tests).
  runbookPanelId:: 1000,

  // ---------------------------------------------------------------------------------------------------------
  annotations(params, extra=''):: [
    g.annotation.alerts('Kafka Detective alerts', $.alertsSelector(params, extra)),
  ],

  // The standard dashboard: datasource + the given variables, alert annotations, links to the others.
  dashboard(d, description, variables, params, annotationMatchers=''):: (
    g.dashboard.new(d.title, d.uid, description, tags=[$.tag])
    + g.dashboard.withVariables([$.var.datasource] + variables)
    + g.dashboard.withAnnotations($.annotations(params, annotationMatchers))
    + g.dashboard.withLinks($.dashboardLinks)
  ),

  // ---------------------------------------------------------------------------------------------------------
  // Panels shared by several dashboards.

  // Firing alerts of the library, one row each, with a link to the runbook.
  firingAlertsTable(params, title='Active patterns (firing alerts)', extra=''):: (
    g.panel.table.new(
      title, 'none',
      'Alerts of the pattern library that are firing now (Prometheus `ALERTS`), one row per alert and label '
      + 'set. Click an alert name for its runbook.'
    )
    + g.panel.withTargets([g.target.table($.alertsSelector(params, extra))])
    // Label columns keep their label names: data links refer to fields by name.
    + g.panel.table.organize(
      exclude=['Time', 'Value', '__name__', 'alertstate'],
      order=['alertname', 'severity', 'cluster', 'consumergroup', 'topic'],
    )
    + g.panel.withOverrides([
      g.panel.override.byName('alertname', [g.panel.override.links([$.runbookLink(params)])]),
      g.panel.override.byName('severity', [
        g.panel.override.mappings([g.mapping.values({
          critical: ['critical', 'red'],
          warning: ['warning', 'orange'],
          info: ['info', 'blue'],
        })]),
        g.panel.override.cellColorText,
      ]),
    ])
    + g.panel.table.withSortBy('severity', desc=false)
  ),

  // Markdown table: every alert of the library -> its runbook (and the dashboard its dashboard_url opens).
  runbookList(params)::
    local esc(s) = std.strReplace(std.strReplace(std.strReplace(s, '\\', '\\\\'), '|', '\\|'), '\n', ' ');
    local titles = { [d.uid]: d.title for d in std.objectValues($.dashboards) };
    local dashboardCell(a) =
      if std.objectHas(titles, a.dashboard) then
        std.format('[%s](/d/%s?var-datasource=${datasource})', [std.split(titles[a.dashboard], '/ ')[1], a.dashboard])
      else if a.dashboard != '' then a.dashboard
      else '';
    local rows = [
      std.format('| [%s](%s) | %s | %s | %s |', [
        esc(a.alert), a.runbook_url, esc(a.severity), esc(a.summary), dashboardCell(a),
      ])
      for a in params.alerts
    ];
    local content =
      if std.length(rows) == 0 then 'The pattern library defines no alerts.'
      else std.join('\n', [
        'Every alert of the pattern library and its runbook (generated from `patterns/*.yaml`).',
        '',
        '| Alert | Severity | Summary | Dashboard |',
        '|---|---|---|---|',
      ] + rows) + '\n';
    g.panel.text.new(
      'Runbooks of every pattern',
      'Generated from the pattern library: each alert Kafka Detective ships, its severity, its summary and '
      + 'links to its runbook and to the dashboard its notifications link to.',
      content,
    )
    + g.panel.withId($.runbookPanelId)
    + g.panel.withSize(24, 4 + std.length(rows)),
}
