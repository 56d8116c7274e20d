// Keeps the status badges of unfinished jobs current without reloading the page.
(function () {
  const label = (status) => status.charAt(0).toUpperCase() + status.slice(1);

  async function refresh(card) {
    try {
      const response = await fetch(card.dataset.statusUrl, {headers: {Accept: "application/json"}});
      if (!response.ok) return;
      const job = await response.json();
      const badge = card.querySelector(".badge");
      badge.className = "badge " + job.status;
      badge.textContent = job.status === "running" ? label(job.status) + " " + Math.round(job.progress * 100) + "%" : label(job.status);
      if (job.status === "succeeded" || job.status === "failed") delete card.dataset.statusUrl;
    } catch (error) {
      // The next round tries again.
    }
  }

  function poll() {
    const pending = document.querySelectorAll("[data-status-url]");
    if (!pending.length) return;
    pending.forEach(refresh);
    setTimeout(poll, 2000);
  }
  setTimeout(poll, 1000);
})();
