/**
 * Vital signs: trend charts of heart rate, blood pressure, weight and BMI, each with its
 * values in a table (a <details> under the chart). One query, made only when this tab is
 * open: every vital-signs Observation of the patient, oldest first, following `next`.
 */
import type { Observation } from '@medplum/fhirtypes';
import { queryOptions, useQuery } from '@tanstack/react-query';
import { useId, useMemo, useState } from 'react';
import { Link } from 'react-router';
import type { FhirApi } from '../api/fhir';
import { useFlint } from '../app/flint-context';
import { dateText } from '../fhir/format';
import { ErrorNotice } from '../ui/ErrorNotice';
import { Loading } from '../ui/Loading';
import { allPages } from './paging';
import { TrendChart, type ChartSeries } from './TrendChart';
import { alignSeries, extractVitals, tableRows, type VitalPoint, type VitalSeries } from './vitals';

interface ChartDef {
  key: string;
  title: string;
  unit: string;
  /** The unit as words, for the text alternative. */
  unitWords: string;
  decimals: number;
  lines: Array<{ label: string; color: string; dash?: number[]; pick: (v: VitalSeries) => VitalPoint[] }>;
}

export const CHARTS: ChartDef[] = [
  { key: 'heart-rate', title: 'Heart rate', unit: '/min', unitWords: 'beats per minute', decimals: 0, lines: [{ label: 'Heart rate', color: '#b91c1c', pick: (v) => v.heartRate }] },
  {
    key: 'blood-pressure',
    title: 'Blood pressure',
    unit: 'mmHg',
    unitWords: 'mmHg',
    decimals: 0,
    lines: [
      { label: 'Systolic', color: '#0f62fe', pick: (v) => v.systolic },
      { label: 'Diastolic', color: '#15803d', dash: [6, 4], pick: (v) => v.diastolic },
    ],
  },
  { key: 'weight', title: 'Body weight', unit: 'kg', unitWords: 'kg', decimals: 1, lines: [{ label: 'Weight', color: '#6d28d9', pick: (v) => v.weight }] },
  { key: 'bmi', title: 'Body mass index', unit: 'kg/m²', unitWords: 'kg/m²', decimals: 1, lines: [{ label: 'BMI', color: '#92400e', pick: (v) => v.bmi }] },
];

const fmt = (v: number | null | undefined, decimals: number) =>
  v === null || v === undefined ? '—' : v.toLocaleString(undefined, { maximumFractionDigits: Math.max(decimals, 1) });

/** The tab's one query (also prefetched when the pointer or focus reaches the tab's link). */
export function vitalsQuery(fhir: FhirApi, patientId: string) {
  return queryOptions({
    queryKey: ['record', patientId, 'vitals'],
    queryFn: async ({ signal }) => {
      const first = await fhir.search<Observation>('Observation', { patient: patientId, category: 'vital-signs', _sort: 'date', _count: '1000' }, signal);
      return allPages(fhir, first, signal);
    },
  });
}

export function VitalsTab({ patientId }: { patientId: string }) {
  const { fhir, can } = useFlint();
  const vitals = useQuery(vitalsQuery(fhir, patientId));
  const series = useMemo(() => (vitals.data ? extractVitals(vitals.data.resources) : undefined), [vitals.data]);

  return (
    <section aria-labelledby="vitals-heading">
      <div className="page-header record-tab-header">
        <h2 id="vitals-heading">Vital signs</h2>
        {can('Observation', 'create') ? (
          <Link className="button" to={`/r/Observation/new?patient=${encodeURIComponent(patientId)}&category=vital-signs`}>
            Add vital signs
          </Link>
        ) : null}
      </div>
      {vitals.isPending ? <Loading label="Loading vital signs…" /> : null}
      <ErrorNotice error={vitals.error} title="Vital signs could not be loaded" />
      {vitals.data?.truncated ? <p className="notice notice-warn">This patient has more vital signs than can be shown; the oldest are charted.</p> : null}
      {series ? (
        <div className="vitals-grid">
          {CHARTS.map((c) => (
            <VitalChart key={c.key} def={c} series={series} />
          ))}
        </div>
      ) : null}
    </section>
  );
}

function VitalChart({ def, series }: { def: ChartDef; series: VitalSeries }) {
  const headingId = useId();
  const lines = useMemo(() => def.lines.map((l) => l.pick(series)), [def, series]);
  const chart = useMemo(() => {
    const { xs, ys } = alignSeries(...lines);
    const chartSeries: ChartSeries[] = def.lines.map((l, i) => ({ label: l.label, color: l.color, ...(l.dash ? { dash: l.dash } : {}), values: ys[i] ?? [] }));
    return { xs, series: chartSeries };
  }, [def, lines]);
  const rows = useMemo(() => tableRows(...lines), [lines]);
  const count = rows.length;
  // The table is only built once opened: a thousand rows per chart cost time on opening the tab.
  const [tableOpen, setTableOpen] = useState(false);
  const description = useMemo(() => {
    if (!count) return `${def.title}: no readings.`;
    const latest = rows[0]!;
    const values = def.lines.map((l, i) => `${def.lines.length > 1 ? `${l.label.toLowerCase()} ` : ''}${fmt(latest.values[i], def.decimals)}`).join(', ');
    const first = rows[rows.length - 1]!;
    return `${def.title} chart, ${count} ${count === 1 ? 'reading' : 'readings'} from ${dateText(first.date)} to ${dateText(latest.date)}. Latest: ${values} ${def.unitWords}.`;
  }, [count, rows, def]);

  return (
    <figure className="card vital-card" aria-labelledby={headingId}>
      <h3 id={headingId}>
        {def.title} <small>({def.unit})</small>
      </h3>
      {count === 0 ? (
        <p className="muted-text">No {def.title.toLowerCase()} readings recorded.</p>
      ) : (
        <>
          <p className="vital-latest">
            Latest:{' '}
            <strong>
              {def.lines.map((_, i) => fmt(rows[0]!.values[i], def.decimals)).join(' / ')} {def.unit}
            </strong>{' '}
            <small>on {dateText(rows[0]!.date)}</small>
          </p>
          <TrendChart description={description} xs={chart.xs} series={chart.series} unit={def.unit} />
          <details className="vital-values" onToggle={(e) => setTableOpen(e.currentTarget.open)}>
            <summary>
              Values of {def.title.toLowerCase()} ({count})
            </summary>
            {tableOpen ? (
            <div className="vital-table-scroll" tabIndex={0} role="region" aria-label={`${def.title} values`}>
              <table className="data">
                <caption className="visually-hidden">
                  {def.title} readings, newest first, in {def.unitWords}
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Date</th>
                    {def.lines.map((l) => (
                      <th scope="col" key={l.label}>
                        {l.label} ({def.unit})
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {rows.map((r) => (
                    <tr key={r.t}>
                      <td>{dateText(r.date)}</td>
                      {r.values.map((v, i) => (
                        <td key={i}>{fmt(v, def.decimals)}</td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            ) : null}
          </details>
        </>
      )}
    </figure>
  );
}
