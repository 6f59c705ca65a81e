// The web console's one script. Pages are rendered by the server (Razor Pages); each marks what it needs live with
// data-* attributes, and the modules below wire those up on any page that has them.
import "uplot/dist/uPlot.min.css";
import "./console.css";
import { wireLinePages } from "./line-view.js";
import { wireAlerts } from "./alerts-live.js";
import { wireChanges } from "./changes-live.js";
import { wireReplay } from "./replay-live.js";

function start() {
  document.querySelectorAll("[data-no-script]").forEach((el) => el.remove());
  for (const wire of [wireLinePages, wireAlerts, wireChanges, wireReplay]) {
    try {
      wire(document);
    } catch (err) {
      console.error("web console: a module failed to start", err);
    }
  }
  document.documentElement.dataset.script = "ready";
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", start);
} else {
  start();
}
