// Traffic over the last minutes, from the balancer's per-second history.
import type { HistoryPoint } from '@headroom/shared/contracts';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { clockTime } from '../../format/numbers';

const COLORS = ['#2563eb', '#16a34a', '#dc2626', '#9333ea', '#ea580c', '#0891b2', '#ca8a04', '#db2777'];

export function TrafficCharts({ points }: { points: HistoryPoint[] }) {
  const ids: string[] = [];
  const names: Record<string, string> = {};
  for (const p of points) {
    for (const [id, b] of Object.entries(p.backends)) {
      if (!names[id]) ids.push(id);
      names[id] = b.name;
    }
  }
  const rows = points.map((p) => {
    const row: Record<string, number | string | null> = {
      t: clockTime(p.t),
      rps: p.rps,
      p50: p.p50,
      p99: p.p99,
    };
    for (const id of ids) {
      const b = p.backends[id];
      row[`cpu:${id}`] = b?.cpu === null || b?.cpu === undefined ? null : Math.round(b.cpu * 1000) / 10;
      row[`share:${id}`] = b ? Math.round(b.share * 1000) / 10 : null;
    }
    return row;
  });
  const perBackend = (prefix: string) =>
    ids.map((id, i) => (
      <Line
        key={id}
        type="monotone"
        dataKey={`${prefix}:${id}`}
        name={names[id]}
        stroke={COLORS[i % COLORS.length]}
        dot={false}
        isAnimationActive={false}
        connectNulls
      />
    ));
  return (
    <div className="charts">
      <Chart title="Requests per second">
        <LineChart data={rows}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="t" minTickGap={40} />
          <YAxis allowDecimals={false} />
          <Tooltip />
          <Line
            type="monotone"
            dataKey="rps"
            name="req/s"
            stroke="#2563eb"
            dot={false}
            isAnimationActive={false}
          />
        </LineChart>
      </Chart>
      <Chart title="Latency (ms)">
        <LineChart data={rows}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="t" minTickGap={40} />
          <YAxis />
          <Tooltip />
          <Legend />
          <Line
            type="monotone"
            dataKey="p50"
            name="p50"
            stroke="#16a34a"
            dot={false}
            isAnimationActive={false}
            connectNulls
          />
          <Line
            type="monotone"
            dataKey="p99"
            name="p99"
            stroke="#dc2626"
            dot={false}
            isAnimationActive={false}
            connectNulls
          />
        </LineChart>
      </Chart>
      <Chart title="CPU per backend (% of its limit)">
        <LineChart data={rows}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="t" minTickGap={40} />
          <YAxis domain={[0, 100]} />
          <Tooltip />
          <Legend />
          {perBackend('cpu')}
        </LineChart>
      </Chart>
      <Chart title="Share of traffic (%)">
        <LineChart data={rows}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="t" minTickGap={40} />
          <YAxis domain={[0, 100]} />
          <Tooltip />
          <Legend />
          {perBackend('share')}
        </LineChart>
      </Chart>
    </div>
  );
}

function Chart({ title, children }: { title: string; children: React.ReactElement }) {
  return (
    <section className="chart">
      <h3>{title}</h3>
      <ResponsiveContainer width="100%" height={200}>
        {children}
      </ResponsiveContainer>
    </section>
  );
}
