// The replay page (/replay?id=N): follows a running replay's progress (GET /live/replays/{id}, server-sent events)
// and reloads the page when it ends, so the server renders the report.
import { follow, localTime } from "./common.js";

export function wireReplay(root) {
  const box = root.querySelector("[data-replay-live]");
  if (!box || box.dataset.state !== "running") return;
  const q = (name) => box.querySelector(`[data-replay-${name}]`);
  const status = q("status");
  const number = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
  let stop = null;
  stop = follow(
    box.dataset.replayLive,
    ["progress", "end"],
    (type, e) => {
      if (q("processed")) q("processed").textContent = String(e.processed);
      if (q("total")) q("total").textContent = String(e.total);
      if (q("bar")) q("bar").value = type === "end" && e.state === "done" ? 1 : e.fraction;
      if (q("simtime") && e.simTime) {
        q("simtime").textContent = `${e.simTime.slice(0, 19).replace("T", " ")} UTC`;
        q("simtime").title = `${localTime(e.simTime)} local`;
      }
      if (q("rate")) {
        const left = e.secondsLeft == null ? "" : `, about ${Math.ceil(e.secondsLeft)} s left`;
        q("rate").textContent = `${number.format(e.samplesPerSecond)} samples/s${left}`;
      }
      if (type === "end") {
        box.dataset.state = e.state;
        if (q("state")) q("state").textContent = e.state;
        if (stop) stop();
        // The report is rendered by the server: fetch it with the page.
        window.location.reload();
      }
    },
    status,
  );
}
