// Shared helpers of the console's modules.

/**
 * Follows a server-sent event stream with the browser's EventSource (which reconnects by itself) and hands each
 * event's parsed JSON data to onEvent(type, data). Returns a function that closes it. A status element, when given,
 * says "live", "reconnecting" or "stopped" (with aria-live on the element, screen readers hear changes).
 */
export function follow(url, types, onEvent, statusEl) {
  const source = new EventSource(url);
  const say = (text) => {
    if (statusEl) statusEl.textContent = text;
  };
  source.onopen = () => say("live");
  source.onerror = () => say(source.readyState === EventSource.CLOSED ? "stopped" : "reconnecting…");
  for (const type of types) {
    source.addEventListener(type, (e) => {
      let data;
      try {
        data = JSON.parse(e.data);
      } catch {
        console.error(`web console: event ${type} from ${url} is not JSON`, e.data);
        return;
      }
      onEvent(type, data);
    });
  }
  window.addEventListener("pagehide", () => source.close(), { once: true });
  return () => source.close();
}

/** The antiforgery token the page's forms carry, for script-made POSTs. */
export function antiforgery(root = document) {
  return root.querySelector('input[name="__RequestVerificationToken"]')?.value ?? "";
}

/** "2026-12-03 15:20:26" in the browser's local time, from epoch milliseconds or an ISO string. */
export function localTime(value) {
  const d = typeof value === "number" ? new Date(value) : new Date(String(value));
  if (Number.isNaN(d.getTime())) return "";
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** Creates an element with attributes and children (strings become text, never HTML). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}
