// Follows an ingestion job: counts, progress bar and log, until it stops running.
(function () {
  const box = document.getElementById("ingest-progress");
  if (!box || !box.dataset.active) return;
  const bar = box.querySelector("progress");
  const counts = document.getElementById("counts");
  const log = document.getElementById("log");
  const badge = document.getElementById("job-status");

  async function poll() {
    try {
      const response = await fetch(box.dataset.statusUrl, {headers: {Accept: "application/json"}});
      if (response.ok) {
        const job = await response.json();
        if (!["queued", "running", "paused"].includes(job.status)) {
          window.location.reload();
          return;
        }
        counts.textContent = job.seen + " looked at" + (job.total ? " of " + job.total : "") +
          ": " + job.kept + " kept, " + job.rejected + " rejected";
        if (job.total) {
          bar.max = job.total;
          bar.value = job.seen;
        }
        log.textContent = job.log;
        badge.className = "badge " + job.status;
        badge.textContent = job.status.charAt(0).toUpperCase() + job.status.slice(1);
      }
    } catch (error) {
      counts.textContent = "Connection lost; retrying…";
    }
    setTimeout(poll, 1500);
  }
  setTimeout(poll, 1000);
})();
