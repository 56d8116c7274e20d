// The gallery: live cards for unfinished jobs, filters that apply on change, and the
// selection of several photos for one ZIP download or one delete.
(function () {
  const label = (status) => status.charAt(0).toUpperCase() + status.slice(1);
  const done = (status) => status === "succeeded" || status === "failed" || status === "cancelled";

  function jobLine(job) {
    if (job.status === "queued") {
      const ahead = job.queue_position;
      return ahead + (ahead === 1 ? " photo" : " photos") + " ahead";
    }
    let line = Math.round(job.progress * 100) + "% done";
    if (job.eta_seconds !== null) line += " · about " + Math.max(1, Math.round(job.eta_seconds)) + " s left";
    return line;
  }

  // A finished job's card comes from the server whole: result thumbnail, figures, no Cancel.
  async function replaceCard(card) {
    const response = await fetch(card.dataset.cardUrl);
    if (!response.ok) return;
    const template = document.createElement("template");
    template.innerHTML = (await response.text()).trim();
    const fresh = template.content.firstElementChild;
    fresh.querySelector("input[name=ids]").checked = card.querySelector("input[name=ids]").checked;
    card.replaceWith(fresh);
  }

  async function refresh(card) {
    try {
      const response = await fetch(card.dataset.statusUrl, {headers: {Accept: "application/json"}});
      if (!response.ok) return;
      const job = await response.json();
      if (done(job.status)) {
        delete card.dataset.statusUrl;
        await replaceCard(card);
        return;
      }
      const badge = card.querySelector(".badge");
      if (!badge.classList.contains(job.status)) {
        badge.className = "badge " + job.status;
        badge.textContent = label(job.status);
      }
      card.querySelector(".job-line").textContent = jobLine(job);
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

  const filters = document.getElementById("filters");
  if (filters) {
    document.getElementById("apply-filters").hidden = true;
    filters.addEventListener("change", () => filters.requestSubmit());
  }

  const selection = document.getElementById("selection");
  if (!selection) return;
  const boxes = () => [...document.querySelectorAll("input[name=ids][form=selection]")];
  const chosen = () => boxes().filter((box) => box.checked);
  const all = document.getElementById("select-all");
  const count = document.getElementById("selected-count");
  const buttons = [document.getElementById("download-selected"), document.getElementById("delete-selected")];

  function update() {
    const n = chosen().length;
    count.textContent = n ? n + " selected" : "";
    buttons.forEach((button) => (button.disabled = !n));
    all.checked = n > 0 && n === boxes().length;
    all.indeterminate = n > 0 && n < boxes().length;
  }
  all.addEventListener("change", () => {
    boxes().forEach((box) => (box.checked = all.checked));
    update();
  });
  document.addEventListener("change", (event) => {
    if (event.target.matches("input[name=ids]")) update();
  });
  document.getElementById("delete-selected").addEventListener("click", (event) => {
    const n = chosen().length;
    if (!confirm("Delete " + n + (n === 1 ? " photo" : " photos") + " and their results for good?")) event.preventDefault();
  });
  update();
})();
