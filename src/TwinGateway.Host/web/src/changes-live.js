// The change page (/changes/{id}): follows the change (GET /live/changes/{id}, server-sent events). A change event
// (validated, approval, applying, applied, ...) reloads the page's live parts from the server; a validation's progress
// moves its bar; an apply's steps are listed as they happen. Parts holding focus or typed text are left alone.
import "./changes.css";
import { follow, localTime } from "./common.js";

export function wireChanges(root) {
  const box = root.querySelector("[data-change-live]");
  if (!box) return;
  const status = root.querySelector("[data-change-status]");
  let pending = null;

  const refresh = async () => {
    pending = null;
    let html;
    try {
      const response = await fetch(window.location.pathname, { headers: { Accept: "text/html" }, credentials: "same-origin" });
      if (!response.ok) return;
      html = await response.text();
    } catch (err) {
      console.error("web console: cannot reload the change", err);
      return;
    }
    const fresh = new DOMParser().parseFromString(html, "text/html");
    for (const part of root.querySelectorAll("[data-live-part]")) {
      const next = fresh.getElementById(part.id);
      if (!next || busy(part)) continue;
      part.replaceWith(document.importNode(next, true));
    }
  };

  // Events come in bursts (applying, steps, verifying): one reload for a burst.
  const schedule = () => {
    if (pending === null) pending = setTimeout(refresh, 300);
  };

  follow(
    box.dataset.changeLive,
    ["hello", "change", "progress", "step"],
    (type, e) => {
      if (type === "hello") {
        // Changed between the page's rendering and the connection (or while reconnecting): reload the parts.
        const shown = root.querySelector("[data-testid=change-state]")?.textContent?.trim();
        if (e.state && shown !== e.state) schedule();
        return;
      }
      if (type === "progress") {
        const bar = root.querySelector("[data-change-progress]");
        if (bar) bar.value = e.fraction ?? 0;
        const text = root.querySelector("[data-change-progress-text]");
        if (text && e.message) text.textContent = `${e.message} done`;
        return;
      }
      if (type === "step") {
        const list = root.querySelector("[data-change-steps]");
        if (list) {
          const li = document.createElement("li");
          li.className = "live";
          li.textContent = `${localTime(e.time)} ${e.message ?? ""}`;
          list.append(li);
        }
        return;
      }
      schedule();
    },
    status,
  );
}

/** A part the user is working in: focus inside it, or text typed into one of its fields. */
function busy(part) {
  if (part.contains(document.activeElement) && document.activeElement !== document.body) return true;
  for (const field of part.querySelectorAll("textarea, input[type=text]")) {
    if (field.value !== field.defaultValue) return true;
  }
  return false;
}
