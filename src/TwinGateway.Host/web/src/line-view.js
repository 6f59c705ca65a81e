// The line page (/lines/{id}): live station states on the diagram, live plots of chosen signals and of the drift
// score, zoom into the recorded past; and the reusable history plots (plots.js) on any page.
import "./line.css";
import { follow, el, localTime } from "./common.js";
import { signalPlot, driftPlot, LiveSeries, fetchHistory, historyData, wireHistoryPlots } from "./plots.js";

const WINDOW_MS = 2 * 60 * 1000;
const STATES = ["idle", "processing", "blocked", "failed"];

export function wireLinePages(root) {
  wireHistoryPlots(root);
  const page = root.querySelector("[data-line-page]");
  if (page) new LinePage(root, page);
  const table = root.querySelector("[data-values-table]");
  if (table) wireValuesTable(table);
}

/** The table of every signal: rows keyed by the signal's index, cells updated from /live/lines/{id}/values twice a second. */
function wireValuesTable(table) {
  const rows = new Map();
  for (const tr of table.tBodies[0].rows) {
    rows.set(Number(tr.dataset.index), {
      tr,
      real: tr.querySelector("[data-real]"),
      expected: tr.querySelector("[data-expected]"),
      apart: tr.querySelector("[data-apart]"),
      status: tr.querySelector("[data-status]"),
      tolerance: tr.dataset.tolerance ? Number(tr.dataset.tolerance) : NaN,
    });
  }
  const num = (v) => (v === null || v === undefined ? "" : String(Number(Number(v).toPrecision(5))));
  let pending = null;
  const apply = () => {
    const batch = pending;
    pending = null;
    for (const [i, real, expected, status] of batch) {
      const row = rows.get(i);
      if (!row) continue;
      row.real.textContent = num(real);
      row.expected.textContent = num(expected);
      row.status.textContent = status;
      const apart = real !== null && expected !== null && row.tolerance > 0 ? Math.abs(real - expected) / row.tolerance : NaN;
      const out = apart > 1;
      row.apart.textContent = Number.isFinite(apart) ? `${apart.toFixed(2)}\u00d7${out ? " out" : ""}` : "";
      row.tr.classList.toggle("out", out);
    }
  };
  follow(`/live/lines/${encodeURIComponent(table.dataset.line)}/values`, ["values"], (_, data) => {
    // Cells change in one frame; a hidden tab keeps only the newest values.
    pending = pending ? pending.concat(data.v) : data.v;
    if (document.hidden) {
      apply();
    } else {
      requestAnimationFrame(() => pending && apply());
    }
  });
}

function stateName(code) {
  return code === null || code === undefined || !Number.isFinite(code) ? "unknown" : STATES[Math.trunc(code)] ?? "unknown";
}

/** Draws a live series over the whole window that ends at its newest point (so 2 minutes show even while it fills). */
function showWindow(plot, series) {
  const x = series.cols[0];
  plot.setData(series.cols, x.length === 0);
  if (x.length > 0) {
    const end = x[x.length - 1];
    plot.setScale("x", { min: end - WINDOW_MS / 1000, max: end });
  }
}

class LinePage {
  constructor(root, page) {
    this.root = root;
    this.page = page;
    this.line = page.dataset.line;
    this.liveUrl = page.dataset.liveUrl;
    this.driftUrl = page.dataset.driftUrl || null;
    this.historyUrl = page.dataset.historyUrl;
    this.maxPlots = Number(page.dataset.maxPlots) || 8;
    this.status = page.querySelector("[data-live-status]");
    this.plotsHost = page.querySelector("[data-plots]");
    this.catalog = new Map();
    try {
      for (const s of JSON.parse(root.getElementById("line-signals")?.textContent || "[]")) this.catalog.set(s.id, s);
    } catch (err) {
      console.error("line page: the signal list is not JSON", err);
    }
    this.plots = new Map(); // signal id -> { fig, canvas, plot, series, mode }
    this.stopLive = null;
    this.stopDrift = null;
    this.dirty = false;
    this.frame = 0;
    this.range = null;

    for (const fig of this.plotsHost.querySelectorAll("[data-testid=signal-plot]")) this.adopt(fig);
    const driftFig = page.querySelector("[data-testid=drift-plot]");
    if (driftFig) {
      this.drift = { fig: driftFig, plot: driftPlot(driftFig.querySelector("[data-plot-canvas]")), series: new LiveSeries(WINDOW_MS, 4) };
    }

    this.wirePicker();
    this.wireRange();
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) this.schedule();
    });

    const from = Date.parse(page.dataset.from || "");
    const to = Date.parse(page.dataset.to || "");
    if (Number.isFinite(from) && Number.isFinite(to) && to > from) {
      void this.showRange(from, to);
    } else {
      this.goLive();
    }
    this.startDrift();
  }

  ids() {
    return [...this.plots.keys()];
  }

  // ---- plots --------------------------------------------------------------------------------------------------

  adopt(fig) {
    const id = fig.dataset.signal;
    const canvas = fig.querySelector("[data-plot-canvas]");
    const entry = { fig, canvas, plot: null, series: new LiveSeries(WINDOW_MS, 5), mode: null };
    this.plots.set(id, entry);
    fig.querySelector("[data-remove-plot]")?.addEventListener("click", () => this.remove(id));
    return entry;
  }

  /** (Re)creates an entry's uPlot for a mode: the band means tolerance live, min..max in the past. */
  ensurePlot(id, entry, mode) {
    if (entry.plot && entry.mode === mode) return entry.plot;
    entry.plot?.destroy();
    const meta = this.catalog.get(id) || {};
    entry.plot = signalPlot(entry.canvas, {
      unit: meta.unit,
      mode,
      onSelect: (from, to) => void this.showRange(from, to),
    });
    entry.mode = mode;
    return entry.plot;
  }

  add(id) {
    if (!id || this.plots.has(id)) return;
    if (this.plots.size >= this.maxPlots) {
      this.say(`At most ${this.maxPlots} plots at once: remove one first.`);
      return;
    }
    const meta = this.catalog.get(id) || { id, unit: "", tolerance: 0 };
    const tol = Number(meta.tolerance || 0).toPrecision(3);
    const fig = el("figure", { class: "plot", "data-testid": "signal-plot", "data-signal": id, "data-points": "0" },
      el("figcaption", {},
        el("span", { class: "plot-title" }, id), " ",
        el("span", { class: "muted" }, `${meta.unit || ""} · tolerance ±${Number(tol)}`), " ",
        el("button", { type: "button", class: "secondary", "data-remove-plot": id, "aria-label": `Remove the plot of ${id}` }, "Remove")),
      el("div", { class: "plot-canvas", "data-plot-canvas": "" }));
    this.plotsHost.append(fig);
    this.adopt(fig);
    this.changed();
  }

  remove(id) {
    const entry = this.plots.get(id);
    if (!entry) return;
    entry.plot?.destroy();
    entry.fig.remove();
    this.plots.delete(id);
    this.changed();
  }

  /** The plotted signals changed: the URL says so, and the live stream or the range is asked again. */
  changed() {
    this.updateUrl();
    const hidden = this.page.querySelector("[data-signal-picker] input[name=signals]");
    if (hidden) hidden.value = this.ids().join(",");
    if (this.range) void this.showRange(this.range.from, this.range.to);
    else this.goLive();
  }

  updateUrl() {
    const q = new URLSearchParams();
    q.set("signals", this.ids().join(","));
    if (this.range) {
      q.set("from", new Date(this.range.from).toISOString());
      q.set("to", new Date(this.range.to).toISOString());
    }
    // Keep the commas readable in shared links.
    history.replaceState(null, "", `${location.pathname}?${q.toString().replace(/%2C/g, ",").replace(/%3A/g, ":")}`);
  }

  say(text) {
    if (this.status) this.status.textContent = text;
  }

  // ---- live ---------------------------------------------------------------------------------------------------

  goLive() {
    this.range = null;
    this.stopLive?.();
    this.stopLive = null;
    for (const [id, entry] of this.plots) {
      entry.series.clear();
      this.ensurePlot(id, entry, "live");
    }
    this.fillRangeForm(null);
    this.updateUrl();
    const ids = this.ids();
    if (ids.length === 0) {
      this.say("no plots: add a signal");
      return;
    }
    this.say("connecting…");
    if (this.drift) delete this.drift.fig.dataset.mode;
    const tolerances = new Map(ids.map((id) => [id, Number(this.catalog.get(id)?.tolerance || 0)]));
    let order = ids;
    this.stopLive = follow(`${this.liveUrl}?ids=${ids.map(encodeURIComponent).join(",")}`, ["meta", "points"], (type, data) => {
      if (type === "meta") {
        order = data.signals.map((s) => s.id);
        for (const s of data.signals) tolerances.set(s.id, s.tolerance);
        return;
      }
      data.signals.forEach((p, i) => {
        const entry = this.plots.get(order[i]);
        if (!entry) return;
        const tol = tolerances.get(order[i]) || 0;
        for (let k = 0; k < p.t.length; k++) {
          const e = p.e[k];
          entry.series.push(p.t[k] / 1000, p.r[k], e, e === null ? null : e + tol, e === null ? null : e - tol);
        }
      });
      if (data.stations) this.stations(data.stations);
      this.schedule();
    }, this.status);
  }

  startDrift() {
    if (!this.driftUrl || !this.drift) return;
    this.stopDrift = follow(this.driftUrl, ["status", "frame"], (type, data) => {
      if (data.t === undefined) return;
      this.drift.series.push(data.t / 1000, data.physics, data.statistical, 1);
      this.schedule();
    });
  }

  /** At most one redraw per animation frame, none while the tab is hidden (the buffers keep filling). */
  schedule() {
    this.dirty = true;
    if (this.frame || document.hidden) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      if (!this.dirty || document.hidden) return;
      this.dirty = false;
      this.draw();
    });
  }

  draw() {
    if (!this.range) {
      for (const entry of this.plots.values()) {
        entry.series.trim();
        if (entry.plot) showWindow(entry.plot, entry.series);
        entry.fig.dataset.points = String(entry.series.length);
      }
    }
    if (this.drift) {
      this.drift.series.trim();
      showWindow(this.drift.plot, this.drift.series);
      this.drift.fig.dataset.points = String(this.drift.series.length);
    }
  }

  stations(states) {
    for (const [id, [real, twin]] of Object.entries(states)) {
      const name = stateName(real);
      const g = this.root.querySelector(`g[data-station="${CSS.escape(id)}"]`);
      if (g) {
        g.dataset.state = name;
        g.setAttribute("class", `station st-${name}`);
        const text = g.querySelector("[data-station-state-text]");
        if (text) text.textContent = name;
      }
      const row = this.root.querySelector(`tr[data-station="${CSS.escape(id)}"]`);
      if (row) {
        const r = row.querySelector("[data-station-real]");
        const t = row.querySelector("[data-station-twin]");
        if (r) r.textContent = name;
        if (t) t.textContent = stateName(twin);
      }
    }
  }

  // ---- the recorded past --------------------------------------------------------------------------------------

  async showRange(from, to) {
    if (!(to > from)) return;
    this.range = { from, to };
    this.stopLive?.();
    this.stopLive = null;
    this.fillRangeForm(this.range);
    this.updateUrl();
    const ids = this.ids();
    if (ids.length === 0) {
      this.say("no plots: add a signal");
      return;
    }
    this.say(`loading ${localTime(from)} to ${localTime(to)}…`);
    if (this.drift) this.drift.fig.dataset.mode = "live-only";
    const width = Math.max(...[...this.plots.values()].map((e) => e.canvas.clientWidth || 600));
    try {
      const data = await fetchHistory(this.historyUrl, ids, from, to, width);
      if (!this.range || this.range.from !== from || this.range.to !== to) return; // superseded
      for (const s of data.signals) {
        const entry = this.plots.get(s.id);
        if (!entry) continue;
        const plot = this.ensurePlot(s.id, entry, "history");
        plot.setData(historyData(s), false);
        plot.setScale("x", { min: from / 1000, max: to / 1000 });
        entry.fig.dataset.points = String(s.t.length);
      }
      this.say(`recorded range ${localTime(from)} to ${localTime(to)} (drag to zoom further, "Live" to return)`);
    } catch (err) {
      this.say(`the recorded range could not be loaded: ${err.message}`);
    }
  }

  fillRangeForm(range) {
    const f = this.page.querySelector("[data-range-form]");
    if (!f) return;
    const local = (ms) => {
      const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60000);
      return d.toISOString().slice(0, 19);
    };
    f.elements.from.value = range ? local(range.from) : "";
    f.elements.to.value = range ? local(range.to) : "";
  }

  wireRange() {
    const f = this.page.querySelector("[data-range-form]");
    if (!f) return;
    f.addEventListener("submit", (e) => {
      e.preventDefault();
      // datetime-local values are the browser's local time.
      const from = new Date(f.elements.from.value).getTime();
      const to = new Date(f.elements.to.value).getTime();
      if (!Number.isFinite(from) || !Number.isFinite(to) || to <= from) {
        this.say("Give a From and a To time, To after From.");
        return;
      }
      void this.showRange(from, to);
    });
    f.querySelector("[data-live-button]")?.addEventListener("click", () => this.goLive());
  }

  wirePicker() {
    const f = this.page.querySelector("[data-signal-picker]");
    if (!f) return;
    f.addEventListener("submit", (e) => {
      e.preventDefault();
      this.add(f.elements.add.value);
    });
  }
}
