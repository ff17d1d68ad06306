/** A small line chart of recent values (newest last), labelled for screen readers with its latest value. */
export function Sparkline(props: { values: number[]; label: string; unit?: string }) {
  const { values, label, unit = '' } = props;
  const width = 160;
  const height = 32;
  const max = Math.max(1, ...values);
  const step = values.length > 1 ? width / (values.length - 1) : width;
  const points = values
    .map((v, i) => `${(i * step).toFixed(1)},${(height - 2 - (v / max) * (height - 4)).toFixed(1)}`)
    .join(' ');
  const latest = values.length > 0 ? values[values.length - 1] : 0;
  return (
    <svg
      class="sparkline"
      viewBox={`0 0 ${width} ${height}`}
      width={width}
      height={height}
      role="img"
      aria-label={`${label}: ${latest}${unit} now, peak ${max}${unit}`}
    >
      <polyline points={points} fill="none" stroke="currentColor" stroke-width="1.5" />
    </svg>
  );
}
