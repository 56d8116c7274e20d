// Polls the job's status while it runs and reloads the page when it ends.
(function () {
  const box = document.getElementById("job-progress");
  if (!box) return;
  const bar = box.querySelector("progress");
  const text = document.getElementById("progress-text");
  const badge = document.getElementById("job-status");

  function describe(job) {
    if (job.status === "queued") {
      let line = "Waiting for a worker…";
      if (job.eta_seconds !== null) line += " about " + Math.max(1, Math.round(job.eta_seconds)) + " s once it starts;";
      return line + " " + job.queue_position + (job.queue_position === 1 ? " photo" : " photos") + " ahead of it";
    }
    let line = "Deblurring… " + Math.round(job.progress * 100) + "%";
    if (job.eta_seconds !== null) line += " · about " + Math.max(1, Math.round(job.eta_seconds)) + " s left";
    return line;
  }

  async function poll() {
    try {
      const response = await fetch(box.dataset.statusUrl, {headers: {Accept: "application/json"}});
      if (response.ok) {
        const job = await response.json();
        if (job.status === "succeeded" || job.status === "failed") {
          window.location.reload();
          return;
        }
        bar.value = job.progress;
        text.textContent = describe(job);
        badge.className = "badge " + job.status;
        badge.textContent = job.status.charAt(0).toUpperCase() + job.status.slice(1);
      }
    } catch (error) {
      text.textContent = "Connection lost; retrying…";
    }
    setTimeout(poll, 1000);
  }
  setTimeout(poll, 500);
})();
