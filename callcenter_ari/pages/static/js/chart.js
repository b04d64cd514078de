// A grouped bar chart drawn as SVG (no chart library): one group per period, one bar per series.
const SVG = "http://www.w3.org/2000/svg";

function node(tag, attrs = {}, text) {
  const made = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) made.setAttribute(name, String(value));
  if (text !== undefined) made.textContent = String(text);
  return made;
}

// labels: one per group; series: [{name, values, className}] with one value per group.
export function barChart(labels, series, { width = 900, height = 260 } = {}) {
  const top = 20;
  const bottom = 40;
  const left = 40;
  const plot = height - top - bottom;
  const most = Math.max(1, ...series.flatMap((s) => s.values));
  const group = (width - left) / Math.max(1, labels.length);
  const bar = Math.max(2, (group * 0.8) / Math.max(1, series.length));
  const svg = node("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", class: "chart" });
  for (const tick of [0, 0.5, 1]) {
    const y = top + plot * (1 - tick);
    svg.append(node("line", { x1: left, x2: width, y1: y, y2: y, class: "grid" }));
    svg.append(node("text", { x: left - 4, y: y + 4, "text-anchor": "end", class: "axis" }, Math.round(most * tick)));
  }
  labels.forEach((label, i) => {
    const x0 = left + i * group + group * 0.1;
    series.forEach((s, j) => {
      const h = (plot * s.values[i]) / most;
      const rect = node("rect", { x: x0 + j * bar, y: top + plot - h, width: bar - 1, height: h, class: s.className });
      rect.append(node("title", {}, `${label} · ${s.name}: ${s.values[i]}`));
      svg.append(rect);
    });
    if (labels.length <= 24 || i % Math.ceil(labels.length / 24) === 0) {
      svg.append(node("text", { x: x0 + group * 0.4, y: height - bottom + 14, "text-anchor": "middle", class: "axis" }, label));
    }
  });
  const legend = node("g", { class: "legend" });
  series.forEach((s, j) => {
    legend.append(node("rect", { x: left + j * 140, y: height - 16, width: 12, height: 12, class: s.className }));
    legend.append(node("text", { x: left + j * 140 + 16, y: height - 6, class: "axis" }, s.name));
  });
  svg.append(legend);
  return svg;
}
