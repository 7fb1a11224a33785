// A small SVG sparkline built with DOM calls (no markup strings).
const SVG = "http://www.w3.org/2000/svg";

export function sparkline(values, label, width = 160, height = 36) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("width", String(width));
  svg.setAttribute("height", String(height));
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label);
  svg.setAttribute("class", "spark");
  const max = Math.max(1e-9, ...values.map(Number));
  const step = values.length > 1 ? width / (values.length - 1) : width;
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(height - 2 - (Number(v) / max) * (height - 4)).toFixed(1)}`);
  if (points.length === 1) points.push(`${width},${points[0].split(",")[1]}`);
  const line = document.createElementNS(SVG, "polyline");
  line.setAttribute("points", points.join(" "));
  line.setAttribute("fill", "none");
  line.setAttribute("class", "spark-line");
  svg.append(line);
  return svg;
}
