// A page that draws each bundled dashboard (dashboards/*.json) outside Grafana, for the browser
// test (tests/browser/dashboards.test.mjs) and the catalog screenshots. Its input is the frames the
// real backend returned for every panel's query on the demo fleet (tests/preview/frames/<uid>.json,
// written by pkg/dashboards TestDashboardPreviewFrames). Panels are laid out by gridPos on Grafana's
// 24-column grid and drawn with @grafana/ui's components; the panel's fieldConfig is applied with
// @grafana/data's applyFieldOverrides, so units, thresholds, display names and overrides show as in
// Grafana. @grafana/ui has no heatmap, state timeline or bar chart: those panels are drawn as a
// time series (heatmap, state timeline) or a table (bar chart) and say so in their header.
import React from 'react';
import { createRoot } from 'react-dom/client';
import {
  applyFieldOverrides,
  createTheme,
  DataFrame,
  dataFrameFromJSON,
  DataFrameJSON,
  dataLinksOverrideProcessor,
  dateTime,
  displayNameOverrideProcessor,
  FieldConfigOptionsRegistry,
  FieldConfigProperty,
  FieldConfigSource,
  FieldType,
  getFieldDisplayValues,
  InterpolateFunction,
  numberOverrideProcessor,
  ReducerID,
  ScopedVars,
  stringOverrideProcessor,
  thresholdsOverrideProcessor,
  unitOverrideProcessor,
  valueMappingsOverrideProcessor,
  ThemeContext,
  TimeRange,
} from '@grafana/data';
import {
  BigValue,
  BigValueColorMode,
  BigValueGraphMode,
  BigValueJustifyMode,
  BigValueTextMode,
  GlobalStyles,
  PanelChrome,
  Table,
  TimeSeries,
} from '@grafana/ui';
import { LegendDisplayMode } from '@grafana/schema';

import overview from '../../dashboards/overview.json';
import details from '../../dashboards/details.json';
import drift from '../../dashboards/drift.json';
import performance from '../../dashboards/performance.json';
import featureStore from '../../dashboards/feature-store.json';
import overviewFrames from './frames/modellens-overview.json';
import detailsFrames from './frames/modellens-details.json';
import driftFrames from './frames/modellens-drift.json';
import performanceFrames from './frames/modellens-performance.json';
import featureStoreFrames from './frames/modellens-feature-store.json';

interface GridPos {
  x: number;
  y: number;
  w: number;
  h: number;
}
interface PanelJSON {
  id: number;
  type: string;
  title?: string;
  gridPos: GridPos;
  fieldConfig?: FieldConfigSource;
  options?: Record<string, any>;
}
interface DashboardJSON {
  uid: string;
  title: string;
  panels: PanelJSON[];
}
interface FramesJSON {
  from: number;
  to: number;
  panels: Array<{ id: number; targets?: Array<{ refId: string; frames: DataFrameJSON[] }> }>;
}

const dashboards: Record<string, [DashboardJSON, FramesJSON]> = {
  'modellens-overview': [overview as unknown as DashboardJSON, overviewFrames as unknown as FramesJSON],
  'modellens-feature-store': [featureStore as unknown as DashboardJSON, featureStoreFrames as unknown as FramesJSON],
  'modellens-details': [details as unknown as DashboardJSON, detailsFrames as unknown as FramesJSON],
  'modellens-drift': [drift as unknown as DashboardJSON, driftFrames as unknown as FramesJSON],
  'modellens-performance': [performance as unknown as DashboardJSON, performanceFrames as unknown as FramesJSON],
};

const theme = createTheme({ colors: { mode: 'dark' } });
const WIDTH = 1600;
const COLUMNS = 24;
const ROW_HEIGHT = 30; // Grafana's GRID_CELL_HEIGHT
const MARGIN = 8; // Grafana's GRID_CELL_VMARGIN
const TIME_ZONE = 'utc';

/**
 * Interpolates ${__field.labels.x}, ${__field.name} and ${__series.name} as Grafana's template
 * service does: from the field and frame in the __dataContext that applyFieldOverrides scopes.
 */
const replaceVariables: InterpolateFunction = (value: string, scopedVars?: ScopedVars) => {
  const ctx = scopedVars?.__dataContext?.value;
  const vars: Record<string, any> = {
    __field: ctx?.field ? { name: ctx.field.name, labels: ctx.field.labels ?? {} } : scopedVars?.__field?.value,
    __series: ctx?.frame ? { name: ctx.frame.name } : scopedVars?.__series?.value,
  };
  return value.replace(/\$\{(__\w+)((?:\.\w+)*)\}/g, (whole, name: string, path: string) => {
    if (!vars[name]) {
      return whole;
    }
    // As in Grafana, a label the series does not have expands to nothing.
    let v: any = vars[name];
    for (const part of path.split('.').filter(Boolean)) {
      v = v?.[part];
    }
    return v === undefined || v === null ? '' : String(v);
  });
};

// Grafana's standard field config properties with the processors Grafana uses for them.
const STANDARD: Array<[string, (value: any, context: any, settings: any) => any]> = [
  [FieldConfigProperty.Unit, unitOverrideProcessor],
  [FieldConfigProperty.Decimals, numberOverrideProcessor],
  [FieldConfigProperty.Min, numberOverrideProcessor],
  [FieldConfigProperty.Max, numberOverrideProcessor],
  [FieldConfigProperty.DisplayName, displayNameOverrideProcessor],
  [FieldConfigProperty.NoValue, stringOverrideProcessor],
  [FieldConfigProperty.Color, (v) => v],
  [FieldConfigProperty.Thresholds, thresholdsOverrideProcessor],
  [FieldConfigProperty.Mappings, valueMappingsOverrideProcessor],
  [FieldConfigProperty.Links, dataLinksOverrideProcessor],
  [FieldConfigProperty.Filterable, (v) => v],
];

/**
 * The registry of field config properties Grafana would have for this panel: the standard ones
 * (processed as Grafana does: display names interpolated, a null base threshold is -Infinity)
 * and the panel's custom properties, taken as they are.
 */
function registryFor(fc: FieldConfigSource): FieldConfigOptionsRegistry {
  const registry = new FieldConfigOptionsRegistry();
  const custom = new Set<string>(Object.keys(fc.defaults?.custom ?? {}));
  for (const o of fc.overrides ?? []) {
    for (const p of o.properties) {
      if (p.id.startsWith('custom.')) {
        custom.add(p.id.slice('custom.'.length));
      }
    }
  }
  const item = (
    id: string,
    path: string,
    isCustom: boolean,
    process: (value: any, context: any, settings: any) => any
  ) => ({
    id,
    path,
    name: id,
    isCustom,
    editor: () => null,
    override: () => null,
    shouldApply: () => true,
    // Grafana's display name and "no value" expand template variables.
    settings: { expandTemplateVars: id === FieldConfigProperty.DisplayName || id === FieldConfigProperty.NoValue },
    process,
  });
  for (const [id, process] of STANDARD) {
    registry.register(item(id, id, false, process) as any);
  }
  for (const path of custom) {
    registry.register(item(`custom.${path}`, path, true, (v) => v) as any);
  }
  return registry;
}

// Panels drawn as a time series use its default colours (Grafana's timeseries panel default).
const TIME_SERIES = ['timeseries', 'heatmap', 'state-timeline'];

function prepare(panel: PanelJSON, raw: DataFrameJSON[]): DataFrame[] {
  let fieldConfig = panel.fieldConfig ?? { defaults: {}, overrides: [] };
  if (TIME_SERIES.includes(panel.type) && !fieldConfig.defaults.color) {
    fieldConfig = { ...fieldConfig, defaults: { ...fieldConfig.defaults, color: { mode: 'palette-classic' } as any } };
  }
  return applyFieldOverrides({
    data: raw.map((f) => dataFrameFromJSON(f)),
    fieldConfig,
    fieldConfigRegistry: registryFor(fieldConfig),
    replaceVariables,
    theme,
    timeZone: TIME_ZONE,
  });
}

function StatPanel({
  panel,
  frames,
  width,
  height,
}: {
  panel: PanelJSON;
  frames: DataFrame[];
  width: number;
  height: number;
}) {
  const options = panel.options ?? {};
  const values = getFieldDisplayValues({
    data: frames,
    fieldConfig: panel.fieldConfig ?? { defaults: {}, overrides: [] },
    reduceOptions: { calcs: [ReducerID.lastNotNull], ...(options.reduceOptions ?? {}) },
    replaceVariables,
    theme,
    timeZone: TIME_ZONE,
  });
  const w = Math.floor(width / Math.max(1, values.length));
  return (
    <div style={{ display: 'flex', width, height }}>
      {values.map((v, i) => (
        <BigValue
          key={i}
          data-testid="stat-value"
          value={v.display}
          width={w}
          height={height}
          theme={theme}
          colorMode={(options.colorMode as BigValueColorMode) ?? BigValueColorMode.Value}
          graphMode={BigValueGraphMode.None}
          justifyMode={(options.justifyMode as BigValueJustifyMode) ?? BigValueJustifyMode.Auto}
          textMode={
            values.length > 1
              ? BigValueTextMode.ValueAndName
              : ((options.textMode as BigValueTextMode) ?? BigValueTextMode.Auto)
          }
        />
      ))}
    </div>
  );
}

function PanelBody({
  panel,
  frames,
  width,
  height,
  timeRange,
}: {
  panel: PanelJSON;
  frames: DataFrame[];
  width: number;
  height: number;
  timeRange: TimeRange;
}) {
  switch (panel.type) {
    case 'stat':
      return <StatPanel panel={panel} frames={frames} width={width} height={height} />;
    case 'table':
    case 'barchart':
      // One table per panel, as Grafana shows the first frame unless a transformation merges them.
      return <Table data={frames[0]} width={width} height={height} />;
    default: {
      const legend = panel.options?.legend ?? {};
      return (
        <TimeSeries
          frames={frames}
          width={width}
          height={height}
          timeRange={timeRange}
          timeZone={TIME_ZONE}
          legend={{
            showLegend: legend.showLegend ?? true,
            displayMode: legend.displayMode ?? LegendDisplayMode.List,
            placement: legend.placement ?? 'bottom',
            calcs: legend.calcs ?? [],
          }}
        />
      );
    }
  }
}

/** Why these frames do not fit the panel's visualisation, or undefined when they do. */
function shapeError(type: string, frames: DataFrame[]): string | undefined {
  const has = (f: DataFrame, t: FieldType) => f.fields.some((fl) => fl.type === t);
  for (const f of frames) {
    switch (type) {
      case 'timeseries':
      case 'heatmap':
      case 'state-timeline':
        if (!has(f, FieldType.time) || !has(f, FieldType.number)) {
          return `${type} needs a time and a number field in frame ${f.name ?? ''}`;
        }
        break;
      case 'barchart':
        if (!has(f, FieldType.string) || !has(f, FieldType.number)) {
          return `barchart needs a string and a number field in frame ${f.name ?? ''}`;
        }
        break;
      case 'stat':
        if (!has(f, FieldType.number)) {
          return `stat needs a number field in frame ${f.name ?? ''}`;
        }
        break;
    }
  }
  return undefined;
}

const FALLBACK: Record<string, string> = {
  heatmap: 'heatmap drawn as time series',
  'state-timeline': 'state timeline drawn as time series',
  barchart: 'bar chart drawn as table',
};

function Panel({ panel, raw, timeRange }: { panel: PanelJSON; raw: DataFrameJSON[]; timeRange: TimeRange }) {
  const { x, y, w, h } = panel.gridPos;
  const colWidth = (WIDTH - MARGIN * (COLUMNS + 1)) / COLUMNS;
  const style: React.CSSProperties = {
    position: 'absolute',
    left: MARGIN + x * (colWidth + MARGIN),
    top: MARGIN + y * (ROW_HEIGHT + MARGIN),
    width: w * colWidth + (w - 1) * MARGIN,
    height: h * ROW_HEIGHT + (h - 1) * MARGIN,
  };
  if (panel.type === 'row') {
    return (
      <div style={{ ...style, fontSize: 18, color: theme.colors.text.primary }} data-testid="row">
        {panel.title}
      </div>
    );
  }
  const frames = prepare(panel, raw);
  // Data is at least one finite number: a panel of only nulls or NaN shows "No data".
  const hasData = frames.some((f) =>
    f.fields.some(
      (fl) => fl.type === FieldType.number && fl.values.some((v) => typeof v === 'number' && Number.isFinite(v))
    )
  );
  const misfit = hasData ? shapeError(panel.type, frames) : undefined;
  return (
    <div style={style} data-testid="panel" data-panel-id={panel.id} data-panel-type={panel.type}>
      <PanelChrome
        width={style.width as number}
        height={style.height as number}
        title={panel.title ?? ''}
        description={FALLBACK[panel.type]}
        titleItems={
          FALLBACK[panel.type]
            ? [
                <span key="f" style={{ fontSize: 11, color: theme.colors.text.secondary }}>
                  ({FALLBACK[panel.type]})
                </span>,
              ]
            : undefined
        }
      >
        {(width, height) =>
          misfit ? (
            <div data-testid="panel-error">{misfit}</div>
          ) : hasData ? (
            <PanelBody panel={panel} frames={frames} width={width} height={height} timeRange={timeRange} />
          ) : (
            <div data-testid="no-data">No data</div>
          )
        }
      </PanelChrome>
    </div>
  );
}

class Boundary extends React.Component<{ children: React.ReactNode }, { error?: string }> {
  state: { error?: string } = {};
  static getDerivedStateFromError(e: Error) {
    return { error: e.message };
  }
  render() {
    return this.state.error ? <div data-testid="panel-error">{this.state.error}</div> : this.props.children;
  }
}

function Dashboard({ uid }: { uid: string }) {
  const entry = dashboards[uid];
  if (!entry) {
    return <div data-testid="panel-error">unknown dashboard {uid}</div>;
  }
  const [dash, data] = entry;
  const from = dateTime(data.from);
  const to = dateTime(data.to);
  const timeRange: TimeRange = { from, to, raw: { from, to } };
  const bottom = Math.max(...dash.panels.map((p) => p.gridPos.y + p.gridPos.h));
  return (
    <div
      data-testid="dashboard"
      style={{
        position: 'relative',
        width: WIDTH,
        height: MARGIN + bottom * (ROW_HEIGHT + MARGIN),
        background: theme.colors.background.canvas,
      }}
    >
      {dash.panels.map((p) => (
        <Boundary key={p.id}>
          <Panel
            panel={p}
            raw={(data.panels.find((d) => d.id === p.id)?.targets ?? []).flatMap((t) => t.frames)}
            timeRange={timeRange}
          />
        </Boundary>
      ))}
    </div>
  );
}

function App() {
  const uid = new URLSearchParams(window.location.search).get('uid') ?? 'modellens-overview';
  return (
    <ThemeContext.Provider value={theme}>
      <GlobalStyles />
      <Dashboard uid={uid} />
    </ThemeContext.Provider>
  );
}

createRoot(document.getElementById('root')!).render(<App />);
