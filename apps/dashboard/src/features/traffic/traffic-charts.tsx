// Traffic over the last minutes, from the balancer's per-second history; mode changes
// are marked on every chart so their effect shows at once.
import type { HistoryPoint } from '@headroom/shared/contracts';
import type { ReactElement } from 'react';
import {
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  ReferenceLine,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import { MODE_LABELS } from '../mode/mode-switch';
import { type BackendMeasure, type ChartSeries, chartSeries, latencyNote } from './chart-rows';

const COLORS = ['#2563eb', '#16a34a', '#dc2626', '#9333ea', '#ea580c', '#0891b2', '#ca8a04', '#db2777'];

function line(dataKey: string, name: string, color: string, connectNulls = true) {
  return (
    <Line
      key={dataKey}
      type="monotone"
      dataKey={dataKey}
      name={name}
      stroke={color}
      dot={false}
      isAnimationActive={false}
      connectNulls={connectNulls}
    />
  );
}

function modeLines(series: ChartSeries) {
  return series.modeChanges.map((c) => (
    <ReferenceLine
      key={`${c.t}-${c.mode}`}
      x={c.t}
      stroke="#64748b"
      strokeDasharray="4 3"
      label={{ value: MODE_LABELS[c.mode], position: 'insideTopLeft', fill: '#475569', fontSize: 11 }}
    />
  ));
}

function perBackend(series: ChartSeries, measure: BackendMeasure) {
  return series.ids.map((id, i) =>
    line(`${measure}:${id}`, series.names[id] ?? id, COLORS[i % COLORS.length] ?? '#2563eb'),
  );
}

export function TrafficCharts({ points }: { points: HistoryPoint[] }) {
  if (points.length === 0) return <p className="note">No traffic history yet.</p>;
  const series = chartSeries(points);
  const noLatency = latencyNote(points);
  const chart = (title: string, yAxis: ReactElement, lines: ReactElement[]) => (
    <Chart title={title}>
      <LineChart data={series.rows}>
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis dataKey="t" minTickGap={40} />
        {yAxis}
        <Tooltip />
        <Legend />
        {modeLines(series)}
        {lines}
      </LineChart>
    </Chart>
  );
  const percentAxis = <YAxis domain={[0, 100]} />;
  return (
    <div className="charts">
      {chart('Requests per second', <YAxis allowDecimals={false} />, [
        line('rps', 'requests/s', '#2563eb'),
        line('errors', 'errors/s', '#dc2626'),
      ])}
      {/* a second without an answered request is a gap (no data), not a zero or a top bucket */}
      {noLatency === null ? (
        chart('Latency (ms)', <YAxis />, [
          line('p50', 'p50', '#16a34a', false),
          line('p99', 'p99', '#dc2626', false),
        ])
      ) : (
        <section className="chart">
          <h3>Latency (ms)</h3>
          <p className="note" role="status">
            {noLatency}
          </p>
        </section>
      )}
      {chart('Requests per second by backend', <YAxis allowDecimals={false} />, perBackend(series, 'rps'))}
      {chart('CPU by backend (% of its limit)', percentAxis, perBackend(series, 'cpu'))}
      {chart('Share of traffic (%)', percentAxis, perBackend(series, 'share'))}
      {chart('Effective weight (slow start)', <YAxis />, perBackend(series, 'weight'))}
    </div>
  );
}

function Chart({ title, children }: { title: string; children: ReactElement }) {
  return (
    <section className="chart">
      <h3>{title}</h3>
      <ResponsiveContainer width="100%" height={200}>
        {children}
      </ResponsiveContainer>
    </section>
  );
}
