// The photo page: polls the job's status while it is queued or running, reloads the page
// when it ends, and then signals the end: the tab's title and, when the user asked for it,
// a browser notification.
(function () {
  const DONE = ["succeeded", "failed", "cancelled"];
  // Carries the end of the job across the reload.
  const finishedKey = "deblur-finished:" + location.pathname;

  function signalFinished() {
    const saved = sessionStorage.getItem(finishedKey);
    if (!saved) return;
    sessionStorage.removeItem(finishedKey);
    const finished = JSON.parse(saved);
    if (finished.status === "cancelled") return;
    const title = (finished.status === "succeeded" ? "✓ Done — " : "✗ Failed — ") + finished.name;
    document.title = title;
    if (finished.notify && "Notification" in window && Notification.permission === "granted") {
      const body = finished.status === "succeeded" ? "The deblurred photo is ready." : "Deblurring failed; the page says why.";
      new Notification(title, {body: body, tag: location.pathname});
    }
  }
  signalFinished();

  const box = document.getElementById("job-progress");
  if (!box) return;
  const bar = box.querySelector("progress");
  const phase = document.getElementById("progress-text");
  const detail = document.getElementById("progress-detail");
  const badge = document.getElementById("job-status");
  const seconds = (value) => Math.max(1, Math.round(value)) + " s";
  let notify = false;

  const notifyButton = document.getElementById("notify-me");
  if ("Notification" in window && Notification.permission !== "denied") {
    notifyButton.hidden = false;
    notifyButton.addEventListener("click", async () => {
      if ((await Notification.requestPermission()) !== "granted") {
        notifyButton.hidden = true;
        return;
      }
      notify = true;
      notifyButton.disabled = true;
      notifyButton.textContent = "You will be notified";
    });
  }

  const glimpse = document.getElementById("glimpse");

  function describe(job) {
    if (job.status === "queued") {
      const ahead = job.queue_position;
      let line = "starts in about " + seconds(job.wait_seconds);
      if (job.eta_seconds !== null) line += " · ready in about " + seconds(job.eta_seconds);
      return ["Waiting for a worker: " + ahead + (ahead === 1 ? " photo" : " photos") + " ahead of it", line];
    }
    let line = Math.round(job.progress * 100) + "%";
    if (job.eta_seconds !== null) line += " · about " + seconds(job.eta_seconds) + " left";
    return ["Deblurring…", line];
  }

  // Live regions speak on every change: only touch them when the words change.
  function show(element, text) {
    if (element.textContent !== text) element.textContent = text;
  }

  async function poll() {
    try {
      const response = await fetch(box.dataset.statusUrl, {headers: {Accept: "application/json"}});
      if (response.ok) {
        const job = await response.json();
        if (DONE.includes(job.status)) {
          sessionStorage.setItem(finishedKey, JSON.stringify({status: job.status, name: box.dataset.name, notify: notify}));
          window.location.reload();
          return;
        }
        const [phaseText, detailText] = describe(job);
        bar.value = job.progress;
        if (job.glimpse_url && glimpse.hidden) {
          glimpse.querySelector("img").src = job.glimpse_url;
          glimpse.hidden = false;
        }
        show(phase, phaseText);
        show(detail, detailText);
        badge.className = "badge " + job.status;
        show(badge, job.status.charAt(0).toUpperCase() + job.status.slice(1));
      }
    } catch (error) {
      show(detail, "Connection lost; retrying…");
    }
    setTimeout(poll, 1000);
  }
  setTimeout(poll, 500);
})();
