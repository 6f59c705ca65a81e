// The alerts page's live part: follows /live/alerts and keeps the table's rows as the server renders them (each
// changed alert's row is fetched again from /alerts/{id}?handler=Row, forms and antiforgery token included), so a row
// inserted live acts exactly like one rendered with the page. New alerts are announced in a polite live region.
import "./alerts.css";
import { follow } from "./common.js";

export function wireAlerts(root) {
  const table = root.querySelector("table[data-alerts-live]");
  if (!table) return;
  const tbody = table.tBodies[0];
  const stateFilter = table.dataset.stateFilter || "";
  const returnUrl = table.dataset.returnUrl || "/alerts";
  const status = root.querySelector('[data-testid="alert-live-status"]');
  const announcer = root.querySelector("[data-alerts-announce]");
  const empty = root.querySelector("[data-alerts-empty]");
  let connections = 0;

  const rowOf = (id) => tbody.querySelector(`tr[data-alert-id="${CSS.escape(String(id))}"]`);
  const showEmpty = () => {
    if (empty) empty.hidden = tbody.rows.length > 0;
  };
  const announce = (text) => {
    if (!announcer) return;
    // Cleared first, so the same words said twice are heard twice.
    announcer.textContent = "";
    window.setTimeout(() => (announcer.textContent = text), 50);
  };

  // A row someone is typing in is not replaced under their hands: it is refreshed when they leave it.
  const busy = (row) => row.contains(document.activeElement) || [...row.querySelectorAll("input[name=note]")].some((i) => i.value !== "");

  async function fetchRow(id) {
    const url = `/alerts/${encodeURIComponent(id)}?handler=Row&returnUrl=${encodeURIComponent(returnUrl)}`;
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } });
    if (!response.ok) throw new Error(`${url}: ${response.status}`);
    const template = document.createElement("template");
    template.innerHTML = (await response.text()).trim();
    return template.content.querySelector("tr");
  }

  function place(row) {
    const onset = Number(row.dataset.onset);
    const id = Number(row.dataset.alertId);
    // Newest onset first (the server's order); ties by id, newest first.
    const after = [...tbody.rows].find((r) => {
      const o = Number(r.dataset.onset);
      return o < onset || (o === onset && Number(r.dataset.alertId) < id);
    });
    tbody.insertBefore(row, after ?? null);
  }

  async function update(change) {
    const existing = rowOf(change.id);
    if (stateFilter && change.state !== stateFilter) {
      // It left this view's state: it goes (unless someone is typing in it; then it goes when they leave).
      if (existing) {
        if (busy(existing)) {
          later(existing, change);
        } else {
          existing.remove();
          showEmpty();
        }
      }
      return;
    }
    if (existing && busy(existing)) {
      later(existing, change);
      return;
    }
    const row = await fetchRow(change.id);
    if (!row) return;
    const current = rowOf(change.id);
    if (current) current.replaceWith(row);
    else place(row);
    showEmpty();
  }

  // The latest change of each row that waits for its user to leave it; checked when focus leaves the row and every second.
  const waiting = new Map();
  function later(row, change) {
    const id = String(change.id);
    const first = !waiting.has(id);
    waiting.set(id, change);
    if (!first) return;
    const retry = () => {
      if (!waiting.has(id)) return;
      if (row.isConnected && busy(row)) return;
      const latest = waiting.get(id);
      waiting.delete(id);
      window.clearInterval(timer);
      row.removeEventListener("focusout", soon);
      void update(latest).catch(report);
    };
    const soon = () => window.setTimeout(retry, 0);
    const timer = window.setInterval(retry, 1000);
    row.addEventListener("focusout", soon);
  }

  // After a reconnect, events may have been missed: the rows are loaded again as the server lists them.
  async function reload() {
    const response = await fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } });
    if (!response.ok) throw new Error(`${window.location.href}: ${response.status}`);
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    const fresh = page.querySelector("table[data-alerts-live] tbody");
    if (!fresh) return;
    for (const row of [...fresh.rows]) {
      const current = rowOf(row.dataset.alertId);
      if (current && busy(current)) continue;
      if (current) current.replaceWith(document.importNode(row, true));
      else place(document.importNode(row, true));
    }
    const keep = new Set([...fresh.rows].map((r) => r.dataset.alertId));
    for (const row of [...tbody.rows]) {
      if (!keep.has(row.dataset.alertId) && !busy(row)) row.remove();
    }
    showEmpty();
  }

  function report(err) {
    console.error("web console: alerts", err);
    if (status) status.textContent = "live, but a row could not be refreshed (reload the page)";
  }

  follow(
    table.dataset.alertsLive,
    ["live", "alert"],
    (type, data) => {
      if (type === "live") {
        if (connections++ > 0) void reload().catch(report);
        return;
      }
      if (data.kind === "opened") {
        announce(`New ${data.severity} drift alert ${data.id} on line ${data.line}.`);
      } else if (data.kind === "resolved" || data.kind === "acknowledged") {
        announce(`Drift alert ${data.id} on line ${data.line} is now ${data.state}.`);
      }
      void update(data).catch(report);
    },
    status,
  );
}
