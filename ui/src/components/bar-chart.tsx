/**
 * A small SVG bar chart of one series over days (oldest first), no chart library: one bar per day with a
 * tooltip (`<title>`), labelled for screen readers with the total and the busiest day. Sizes come from
 * SVG attributes only (the console's CSP allows no inline style).
 */
export interface Bar {
  label: string;
  value: number;
}

export function BarChart(props: { bars: Bar[]; label: string; unit?: string }) {
  const { bars, label, unit = '' } = props;
  const width = 320;
  const height = 80;
  const gap = bars.length > 40 ? 0.5 : 1.5;
  const max = Math.max(1, ...bars.map((b) => b.value));
  const step = bars.length > 0 ? width / bars.length : width;
  const total = bars.reduce((sum, b) => sum + b.value, 0);
  const peak = bars.reduce<Bar | undefined>(
    (best, b) => (!best || b.value > best.value ? b : best),
    undefined,
  );
  const summary =
    peak && peak.value > 0
      ? `${label}: ${total}${unit} in ${bars.length} days, most on ${peak.label} (${peak.value}${unit})`
      : `${label}: none in ${bars.length} days`;
  return (
    <svg
      class="bar-chart"
      viewBox={`0 0 ${width} ${height}`}
      preserveAspectRatio="none"
      width="100%"
      height={height}
      role="img"
      aria-label={summary}
    >
      <line
        x1="0"
        y1={height - 0.5}
        x2={width}
        y2={height - 0.5}
        stroke="currentColor"
        stroke-opacity="0.3"
      />
      {bars.map((b, i) => {
        const h = b.value === 0 ? 0 : Math.max(1, (b.value / max) * (height - 4));
        return (
          <rect
            key={b.label}
            x={(i * step + gap / 2).toFixed(2)}
            y={(height - h).toFixed(2)}
            width={Math.max(0.5, step - gap).toFixed(2)}
            height={h.toFixed(2)}
            fill="currentColor"
          >
            <title>
              {b.label}: {b.value}
              {unit}
            </title>
          </rect>
        );
      })}
    </svg>
  );
}
