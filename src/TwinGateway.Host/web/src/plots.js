// Plots of the web console (uPlot): a signal's real and expected values with a band (the tolerance around expected
// when live, the recorded min..max when showing the past), the drift score against its threshold, and the reusable
// history plot any page can ask for with <div data-history-plot data-line data-signals data-from data-to data-mark>.
import uPlot from "uplot";
import { el, localTime } from "./common.js";

const REAL = "#1f5fbf";
const EXPECTED = "#b35900";
const BAND = "rgba(179, 89, 0, 0.15)";

function plotWidth(container) {
  return Math.max(240, Math.floor(container.getBoundingClientRect().width || container.clientWidth || 600));
}

/** Keeps a plot as wide as its container. */
function followWidth(plot, container, height) {
  if (typeof ResizeObserver === "undefined") return;
  let last = 0;
  const ro = new ResizeObserver(() => {
    const w = plotWidth(container);
    if (w !== last) {
      last = w;
      plot.setSize({ width: w, height });
    }
  });
  ro.observe(container);
}

/**
 * A plot of one signal: series real, expected, band high, band low (filled between). mode "live" labels the band
 * as the tolerance around expected, "history" as the recorded min..max of real. onSelect(fromMs, toMs), when given,
 * is called when the user drags across the plot (drag-to-zoom).
 */
export function signalPlot(container, { unit = "", mode = "live", height = 200, onSelect, mark } = {}) {
  const [bandHigh, bandLow] = mode === "live" ? ["expected + tolerance", "expected − tolerance"] : ["real max", "real min"];
  const realLabel = mode === "live" ? "real" : "real (mean)";
  const expectedLabel = mode === "live" ? "expected" : "expected (mean)";
  const opts = {
    width: plotWidth(container),
    height,
    cursor: { drag: { x: Boolean(onSelect), y: false, setScale: false } },
    scales: { x: { time: true } },
    axes: [{}, { label: unit, size: 60 }],
    series: [
      {},
      { label: realLabel, stroke: REAL, width: 2, spanGaps: false },
      { label: expectedLabel, stroke: EXPECTED, width: 2, dash: [6, 4], spanGaps: false },
      { label: bandHigh, stroke: "rgba(179, 89, 0, 0.35)", width: 1, spanGaps: false },
      { label: bandLow, stroke: "rgba(179, 89, 0, 0.35)", width: 1, spanGaps: false },
    ],
    bands: [{ series: [3, 4], fill: BAND }],
    hooks: {},
    legend: { live: true },
  };
  if (onSelect) {
    opts.hooks.setSelect = [
      (u) => {
        if (u.select.width < 4) return;
        const from = u.posToVal(u.select.left, "x") * 1000;
        const to = u.posToVal(u.select.left + u.select.width, "x") * 1000;
        u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
        onSelect(from, to);
      },
    ];
  }
  if (mark !== undefined && mark !== null && Number.isFinite(mark)) {
    opts.hooks.draw = [(u) => drawMarker(u, mark / 1000)];
  }
  const plot = new uPlot(opts, [[], [], [], [], []], container);
  followWidth(plot, container, height);
  return plot;
}

/** A vertical line at x (seconds), labelled "onset". */
function drawMarker(u, x) {
  const left = u.valToPos(x, "x", true);
  if (!Number.isFinite(left) || left < u.bbox.left || left > u.bbox.left + u.bbox.width) return;
  const ctx = u.ctx;
  ctx.save();
  ctx.strokeStyle = "#b00020";
  ctx.lineWidth = 2 * devicePixelRatio;
  ctx.setLineDash([4 * devicePixelRatio, 3 * devicePixelRatio]);
  ctx.beginPath();
  ctx.moveTo(left, u.bbox.top);
  ctx.lineTo(left, u.bbox.top + u.bbox.height);
  ctx.stroke();
  ctx.fillStyle = "#b00020";
  ctx.font = `${12 * devicePixelRatio}px sans-serif`;
  ctx.fillText("onset", left + 4 * devicePixelRatio, u.bbox.top + 14 * devicePixelRatio);
  ctx.restore();
}

/** The drift score plot: physics and statistical score as ratio to the threshold, with the threshold at 1.0. */
export function driftPlot(container, { height = 180 } = {}) {
  const plot = new uPlot(
    {
      width: plotWidth(container),
      height,
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(1.5, (max ?? 0) * 1.1)] } },
      axes: [{}, { label: "score / threshold", size: 60 }],
      series: [
        {},
        { label: "physics", stroke: REAL, width: 2 },
        { label: "statistical", stroke: "#6a3d9a", width: 2, dash: [2, 3] },
        { label: "threshold (1.0)", stroke: "#b00020", width: 1, dash: [8, 4] },
      ],
    },
    [[], [], [], []],
    container,
  );
  followWidth(plot, container, height);
  return plot;
}

/**
 * Growing columns of one live series with a time window: push points, trim what fell out of the window.
 * One set of arrays per plot, reused: uPlot reads them as they are.
 */
export class LiveSeries {
  constructor(windowMs, columns) {
    this.windowMs = windowMs;
    this.cols = Array.from({ length: columns }, () => []);
  }

  push(...values) {
    for (let i = 0; i < this.cols.length; i++) this.cols[i].push(values[i]);
  }

  /** Drops points older than the window before the newest (times in column 0, seconds). */
  trim() {
    const x = this.cols[0];
    if (x.length === 0) return;
    const oldest = x[x.length - 1] - this.windowMs / 1000;
    let cut = 0;
    while (cut < x.length && x[cut] < oldest) cut++;
    if (cut > 0) for (const c of this.cols) c.splice(0, cut);
  }

  clear() {
    for (const c of this.cols) c.length = 0;
  }

  get length() {
    return this.cols[0].length;
  }
}

/** Fetches the recorded range of signals downsampled to `points` buckets; throws an Error with the server's message. */
export async function fetchHistory(url, signals, fromMs, toMs, points) {
  const q = new URLSearchParams({
    signals: signals.join(","),
    from: new Date(fromMs).toISOString(),
    to: new Date(toMs).toISOString(),
    points: String(Math.max(1, Math.min(5000, Math.round(points)))),
  });
  const res = await fetch(`${url}?${q}`, { headers: { Accept: "application/json" }, credentials: "same-origin" });
  if (!res.ok) throw new Error(`${res.status}: ${(await res.text()) || res.statusText}`);
  return res.json();
}

/** uPlot data of one signal's history buckets: x (s), mean, mean expected, max, min. */
export function historyData(series) {
  return [series.t.map((t) => t / 1000), series.mean, series.expected, series.max, series.min];
}

/**
 * Wires every <div data-history-plot data-line="L" data-signals="a,b" data-from="ISO" data-to="ISO" data-mark="ISO">
 * on the page: one plot per signal of the recorded real (mean, min..max band) and expected values over the range,
 * with a vertical marker at data-mark. Each plot is a figure data-testid="history-plot" data-signal with data-points.
 */
export function wireHistoryPlots(root) {
  const wire = (scope) => {
    const hosts = scope.matches?.("[data-history-plot]") ? [scope] : [...scope.querySelectorAll("[data-history-plot]")];
    for (const host of hosts) {
      if (host.dataset.wired) continue;
      host.dataset.wired = "1";
      void loadHistoryPlot(host);
    }
  };
  wire(root);
  // A page may add such elements later (an alert row opened by its script): they are wired when they appear.
  const body = root.body ?? root;
  if (typeof MutationObserver !== "undefined" && body) {
    new MutationObserver((changes) => {
      for (const c of changes) for (const n of c.addedNodes) if (n.nodeType === 1) wire(n);
    }).observe(body, { childList: true, subtree: true });
  }
}

async function loadHistoryPlot(host) {
  const line = host.dataset.line;
  const signals = (host.dataset.signals || "").split(",").map((s) => s.trim()).filter(Boolean);
  const from = Date.parse(host.dataset.from || "");
  const to = Date.parse(host.dataset.to || "");
  const mark = host.dataset.mark ? Date.parse(host.dataset.mark) : NaN;
  const status = el("p", { class: "muted", role: "status", "data-testid": "history-status" }, "Loading the recorded values…");
  host.append(status);
  if (!line || signals.length === 0 || !Number.isFinite(from) || !Number.isFinite(to) || to <= from) {
    status.className = "error";
    status.textContent = "This plot needs data-line, data-signals and data-from < data-to (ISO times).";
    return;
  }
  try {
    const width = plotWidth(host);
    const data = await fetchHistory(`/data/lines/${encodeURIComponent(line)}/history`, signals, from, to, width);
    status.textContent = `Recorded ${localTime(from)} to ${localTime(to)}${Number.isFinite(mark) ? `, onset ${localTime(mark)}` : ""}.`;
    for (const s of data.signals) {
      const canvas = el("div", { class: "plot-canvas" });
      const fig = el("figure", { class: "plot", "data-testid": "history-plot", "data-signal": s.id, "data-points": "0" },
        el("figcaption", {}, s.id, " ", el("span", { class: "muted" }, s.unit || "")), canvas);
      host.append(fig);
      const plot = signalPlot(canvas, { unit: s.unit, mode: "history", mark: Number.isFinite(mark) ? mark : undefined, height: 180 });
      plot.setData(historyData(s), false);
      plot.setScale("x", { min: from / 1000, max: to / 1000 });
      fig.dataset.points = String(s.t.length);
      if (s.t.length === 0) fig.append(el("p", { class: "muted" }, "Nothing recorded for this signal in the range."));
    }
  } catch (err) {
    status.className = "error";
    status.setAttribute("role", "alert");
    status.textContent = `The recorded values could not be loaded: ${err.message}`;
  }
}
