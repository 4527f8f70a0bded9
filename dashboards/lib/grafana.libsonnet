// A small grafonnet-style builder library for Grafana dashboards (schemaVersion 39).
//
// Upstream grafonnet cannot be vendored here, so this file provides the subset Kafka Detective needs:
// dashboards, rows, timeseries / stat / table / bar gauge / state timeline / text panels, Prometheus targets,
// template variables, dashboard links, annotations, thresholds, value mappings, overrides and an automatic
// grid layout. Every builder returns a plain object; mixins are combined with `+`.
//
//   local g = import 'grafana.libsonnet';
//   g.panel.timeseries.new('Lag', unit='short', description='...')
//   + g.panel.withTargets([g.target.new('sum(kafka_consumergroup_lag_sum)', legend='lag')])
//   + g.panel.withSize(12, 8)
//
// Conventions: every panel and target uses the datasource variable `${datasource}` (see `ds`); panel ids,
// target refIds and grid positions are assigned by `dashboard.withPanels`, so sources never hard-code them.

local schemaVersion = 39;
local gridWidth = 24;

{
  schemaVersion:: schemaVersion,
  gridWidth:: gridWidth,

  // The datasource reference used by every panel, target, variable and annotation.
  ds:: { type: 'prometheus', uid: '${datasource}' },

  // ---------------------------------------------------------------------------------------------------------
  dashboard:: {
    new(title, uid, description, tags=[], time_from='now-6h', refresh='1m'):: {
      title: title,
      uid: uid,
      description: description,
      tags: tags,
      schemaVersion: schemaVersion,
      version: 1,
      editable: true,
      fiscalYearStartMonth: 0,
      graphTooltip: 1,  // shared crosshair
      liveNow: false,
      refresh: refresh,
      time: { from: time_from, to: 'now' },
      timepicker: {},
      timezone: 'browser',
      weekStart: '',
      links: [],
      panels: [],
      templating: { list: [] },
      annotations: {
        list: [
          {
            builtIn: 1,
            datasource: { type: 'grafana', uid: '-- Grafana --' },
            enable: true,
            hide: true,
            iconColor: 'rgba(0, 211, 255, 1)',
            name: 'Annotations & Alerts',
            type: 'dashboard',
          },
        ],
      },
    },
    withVariables(variables):: { templating+: { list+: variables } },
    withAnnotations(annotations):: { annotations+: { list+: annotations } },
    withLinks(links):: { links+: links },
    // Lays the panels out (see `layout`) and numbers them.
    withPanels(panels):: { panels: $.layout(panels) },
  },

  // Flow layout on the 24-column grid: panels are placed left to right in the order given and wrap to a new
  // line when the next one does not fit; a line is as tall as its tallest panel; a row always starts a new
  // line and spans the full width. Panels carry their size as `gridPos: {w, h}` (see `panel.withSize`).
  // Ids are 1..n in order; refIds of targets are A, B, C...
  layout(panels)::
    local letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
    local numberTargets(p) =
      if std.objectHas(p, 'targets') then
        p { targets: [p.targets[i] { refId: letters[i] } for i in std.range(0, std.length(p.targets) - 1)] }
      else p;
    // A panel may pin its id (`withId`) so other dashboards can link to it; the others are numbered in order.
    local idOf(p, acc) = if std.objectHas(p, 'id') then p.id else acc.id;
    local step(acc, p) =
      if p.type == 'row' then
        local y = acc.y + acc.lineH;
        acc {
          out+: [p { id: idOf(p, acc), gridPos: { x: 0, y: y, w: gridWidth, h: 1 } }],
          x: 0,
          y: y + 1,
          lineH: 0,
          id: acc.id + 1,
        }
      else
        local w = p.gridPos.w;
        local h = p.gridPos.h;
        local wrap = acc.x + w > gridWidth;
        local x = if wrap then 0 else acc.x;
        local y = if wrap then acc.y + acc.lineH else acc.y;
        acc {
          out+: [numberTargets(p) { id: idOf(p, acc), gridPos: { x: x, y: y, w: w, h: h } }],
          x: x + w,
          y: y,
          lineH: if wrap then h else std.max(acc.lineH, h),
          id: acc.id + 1,
        };
    std.foldl(step, panels, { out: [], x: 0, y: 0, lineH: 0, id: 1 }).out,

  // ---------------------------------------------------------------------------------------------------------
  target:: {
    // A range query drawn over time.
    new(expr, legend='__auto'):: {
      datasource: $.ds,
      editorMode: 'code',
      expr: expr,
      format: 'time_series',
      instant: false,
      range: true,
      legendFormat: legend,
    },
    // An instant query rendered as a table (one row per series, labels as columns).
    table(expr, legend='__auto'):: $.target.new(expr, legend) {
      format: 'table',
      instant: true,
      range: false,
    },
    // An instant query for stat and bar gauge panels.
    instant(expr, legend='__auto'):: $.target.new(expr, legend) {
      instant: true,
      range: false,
    },
  },

  // ---------------------------------------------------------------------------------------------------------
  thresholds:: {
    // steps: [[color, value], ...] in increasing value order; the first value is the base (null).
    absolute(steps):: {
      mode: 'absolute',
      steps: [{ color: steps[0][0], value: null }] + [{ color: s[0], value: s[1] } for s in steps[1:]],
    },
    // green until `warn`, orange until `crit`, red above.
    levels(warn, crit):: $.thresholds.absolute([['green'], ['orange', warn], ['red', crit]]),
    // red until `ok`, green above (for "higher is better" values).
    atLeast(ok):: $.thresholds.absolute([['red'], ['green', ok]]),
    none:: $.thresholds.absolute([['green']]),
  },

  mapping:: {
    // {value: [text, color]} -> one `value` mapping.
    values(map):: {
      type: 'value',
      options: {
        [k]: { text: map[k][0], color: map[k][1], index: i }
        for i in std.range(0, std.length(std.objectFields(map)) - 1)
        for k in [std.objectFields(map)[i]]
      },
    },
  },

  link:: {
    // A dashboard link listing the dashboards that carry `tags` (keeps time range and variables).
    dashboards(title, tags):: {
      title: title,
      type: 'dashboards',
      tags: tags,
      asDropdown: true,
      includeVars: true,
      keepTime: true,
      targetBlank: false,
      icon: 'external link',
      tooltip: '',
      url: '',
    },
    url(title, url, tooltip=''):: {
      title: title,
      type: 'link',
      url: url,
      tooltip: tooltip,
      asDropdown: false,
      includeVars: false,
      keepTime: false,
      targetBlank: true,
      icon: 'doc',
      tags: [],
    },
    // A data link (panel or field): `url` may use ${__data.fields.<name>}, ${__field.labels.<name>}...
    data(title, url, blank=false):: { title: title, url: url, targetBlank: blank },
  },

  // ---------------------------------------------------------------------------------------------------------
  variable:: {
    datasource(name='datasource', label='Data source', pluginId='prometheus'):: {
      name: name,
      label: label,
      type: 'datasource',
      query: pluginId,
      current: {},
      hide: 0,
      includeAll: false,
      multi: false,
      options: [],
      refresh: 1,
      regex: '',
      skipUrlSync: false,
    },
    // A Prometheus query variable: `query` is `label_values(<selector>, <label>)`.
    query(name, label, query, multi=true, includeAll=true, description=''):: {
      name: name,
      label: label,
      description: description,
      type: 'query',
      datasource: $.ds,
      definition: query,
      // The string form (as grafonnet emits it): the Prometheus plugin runs it as is and its editor parses it.
      query: query,
      // Multi-value variables start on All; single-value ones on the first value Grafana finds.
      current: if includeAll then { selected: true, text: ['All'], value: ['$__all'] } else {},
      hide: 0,
      includeAll: includeAll,
      multi: multi,
      [if includeAll then 'allValue']: '.*',
      options: [],
      refresh: 2,  // on time range change
      regex: '',
      skipUrlSync: false,
      sort: 1,
    },
  },

  annotation:: {
    // Alerts from Prometheus' ALERTS series (one annotation region per firing alert).
    alerts(name, expr, color='red'):: {
      name: name,
      datasource: $.ds,
      enable: true,
      hide: false,
      iconColor: color,
      expr: expr,
      step: '60s',
      titleFormat: '{{alertname}}',
      textFormat: '{{severity}} {{cluster}} {{consumergroup}} {{topic}}',
      tagKeys: 'alertname,severity',
      useValueForTime: false,
    },
  },

  // ---------------------------------------------------------------------------------------------------------
  panel:: {
    local base(type, title, unit, description) = {
      type: type,
      title: title,
      description: description,
      datasource: $.ds,
      gridPos: { w: 12, h: 8 },
      fieldConfig: {
        defaults: {
          unit: unit,
          color: { mode: 'thresholds' },
          mappings: [],
          thresholds: $.thresholds.none,
          custom: {},
        },
        overrides: [],
      },
      links: [],
      options: {},
      targets: [],
      transformations: [],
    },
    local reduce = { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false } },

    withSize(w, h):: { gridPos: { w: w, h: h } },
    withId(id):: { id: id },
    withTargets(targets):: { targets: targets },
    withThresholds(t):: { fieldConfig+: { defaults+: { thresholds: t } } },
    // Colour by thresholds (stat, bar gauge) or by series palette (time series).
    withColorFromThresholds():: { fieldConfig+: { defaults+: { color: { mode: 'thresholds' } } } },
    withMappings(mappings):: { fieldConfig+: { defaults+: { mappings: mappings } } },
    withMinMax(min=null, max=null):: {
      fieldConfig+: { defaults+: { [if min != null then 'min']: min, [if max != null then 'max']: max } },
    },
    withDecimals(d):: { fieldConfig+: { defaults+: { decimals: d } } },
    withNoValue(text):: { fieldConfig+: { defaults+: { noValue: text } } },
    withLinks(links):: { links+: links },
    // Data links on every field of the panel (bar gauge, stat, time series).
    withFieldLinks(links):: { fieldConfig+: { defaults+: { links: links } } },
    withOverrides(overrides):: { fieldConfig+: { overrides+: overrides } },
    withTransformations(t):: { transformations+: t },
    withOptions(o):: { options+: o },
    withCustom(c):: { fieldConfig+: { defaults+: { custom+: c } } },

    override:: {
      byName(name, properties):: { matcher: { id: 'byName', options: name }, properties: properties },
      byRegexp(re, properties):: { matcher: { id: 'byRegexp', options: re }, properties: properties },
      byQuery(refId, properties):: { matcher: { id: 'byFrameRefID', options: refId }, properties: properties },
      unit(u):: { id: 'unit', value: u },
      displayName(n):: { id: 'displayName', value: n },
      links(l):: { id: 'links', value: l },
      decimals(d):: { id: 'decimals', value: d },
      thresholds(t):: { id: 'thresholds', value: t },
      mappings(m):: { id: 'mappings', value: m },
      width(w):: { id: 'custom.width', value: w },
      cellColorText:: { id: 'custom.cellOptions', value: { type: 'color-text' } },
      cellGauge:: { id: 'custom.cellOptions', value: { type: 'gauge', mode: 'basic', valueDisplayMode: 'text' } },
      color(c):: { id: 'color', value: { mode: 'fixed', fixedColor: c } },
      dashed:: { id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } },
      dotted:: { id: 'custom.lineStyle', value: { fill: 'dot', dash: [0, 10] } },
      fillOpacity(o):: { id: 'custom.fillOpacity', value: o },
      fillBelowTo(name):: { id: 'custom.fillBelowTo', value: name },
      lineWidth(w):: { id: 'custom.lineWidth', value: w },
      drawStyle(s):: { id: 'custom.drawStyle', value: s },
    },

    row:: {
      new(title):: {
        type: 'row',
        title: title,
        collapsed: false,
        panels: [],
      },
    },

    timeseries:: {
      new(title, unit, description, stack=false, bars=false):: base('timeseries', title, unit, description) {
        fieldConfig+: {
          defaults+: {
            color: { mode: 'palette-classic' },
            custom: {
              axisBorderShow: false,
              axisCenteredZero: false,
              axisColorMode: 'text',
              axisLabel: '',
              axisPlacement: 'auto',
              barAlignment: 0,
              drawStyle: if bars then 'bars' else 'line',
              fillOpacity: if bars then 60 else 10,
              gradientMode: 'none',
              hideFrom: { legend: false, tooltip: false, viz: false },
              insertNulls: false,
              lineInterpolation: 'linear',
              lineWidth: 1,
              pointSize: 4,
              scaleDistribution: { type: 'linear' },
              showPoints: 'never',
              spanNulls: false,
              stacking: { group: 'A', mode: if stack then 'normal' else 'none' },
              thresholdsStyle: { mode: 'off' },
            },
          },
        },
        options: {
          legend: { calcs: ['lastNotNull', 'max'], displayMode: 'table', placement: 'bottom', showLegend: true },
          tooltip: { mode: 'multi', sort: 'desc' },
        },
      },
      // Draw the thresholds as dashed lines.
      withThresholdLines():: { fieldConfig+: { defaults+: { custom+: { thresholdsStyle: { mode: 'dashed' } } } } },
      withLegendRight():: { options+: { legend+: { placement: 'right' } } },
    },

    stat:: {
      new(title, unit, description, graph=true, textMode='auto'):: base('stat', title, unit, description) {
        options: reduce {
          colorMode: 'value',
          graphMode: if graph then 'area' else 'none',
          justifyMode: 'auto',
          orientation: 'auto',
          showPercentChange: false,
          textMode: textMode,
          wideLayout: true,
        },
      } + $.panel.withSize(4, 4),
    },

    bargauge:: {
      new(title, unit, description):: base('bargauge', title, unit, description) {
        options: reduce {
          displayMode: 'gradient',
          maxVizHeight: 300,
          minVizHeight: 16,
          minVizWidth: 8,
          namePlacement: 'auto',
          orientation: 'horizontal',
          showUnfilled: true,
          sizing: 'auto',
          valueMode: 'color',
        },
      },
    },

    table:: {
      new(title, unit, description):: base('table', title, unit, description) {
        fieldConfig+: {
          defaults+: {
            custom: { align: 'auto', cellOptions: { type: 'auto' }, filterable: true, inspect: false },
          },
        },
        options: {
          cellHeight: 'sm',
          footer: { countRows: false, fields: '', reducer: ['sum'], show: false },
          showHeader: true,
          sortBy: [],
        },
      },
      withSortBy(field, desc=true):: { options+: { sortBy: [{ displayName: field, desc: desc }] } },
      // Join the instant queries of the panel on their common labels.
      merge():: { transformations+: [{ id: 'merge', options: {} }] },
      // Hide, rename and order columns.
      organize(exclude=[], rename={}, order=[]):: {
        transformations+: [{
          id: 'organize',
          options: {
            excludeByName: { [f]: true for f in exclude },
            renameByName: rename,
            indexByName: { [order[i]]: i for i in std.range(0, std.length(order) - 1) },
            includeByName: {},
          },
        }],
      },
    },

    stateTimeline:: {
      new(title, unit, description):: base('state-timeline', title, unit, description) {
        fieldConfig+: { defaults+: { custom: { fillOpacity: 70, hideFrom: { legend: false, tooltip: false, viz: false }, lineWidth: 0 } } },
        options: {
          alignValue: 'left',
          legend: { displayMode: 'list', placement: 'bottom', showLegend: true },
          mergeValues: true,
          rowHeight: 0.9,
          showValue: 'never',
          tooltip: { mode: 'single', sort: 'none' },
        },
      },
    },

    // Text panels carry the datasource and a unit like every other panel, so the structural checks stay simple.
    text:: {
      new(title, description, content, mode='markdown'):: base('text', title, 'none', description) {
        options: {
          code: { language: 'plaintext', showLineNumbers: false, showMiniMap: false },
          content: content,
          mode: mode,
        },
      },
    },
  },
}
