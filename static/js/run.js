// Follows a training run: step, ETA, best figures, charts, samples and log, until it ends.
(function () {
  const box = document.getElementById("run-progress");
  if (!box || !box.dataset.active) return;
  const $ = (id) => document.getElementById(id);
  let lastStep = -1;
  let samples = [];

  function duration(seconds) {
    if (seconds == null) return "";
    if (seconds < 90) return "about " + Math.round(seconds) + " s left";
    if (seconds < 5400) return "about " + Math.round(seconds / 60) + " min left";
    return "about " + (seconds / 3600).toFixed(1) + " h left";
  }

  function showSamples(names) {
    if (names.join() === samples.join()) return;
    samples = names;
    const holder = $("samples");
    holder.replaceChildren(...names.map((name) => {
      const figure = document.createElement("figure");
      const image = document.createElement("img");
      image.src = box.dataset.sampleUrl.replace("NAME", name);
      image.alt = "Sample strip at " + name;
      const caption = document.createElement("figcaption");
      caption.textContent = name;
      figure.append(image, caption);
      return figure;
    }));
  }

  async function poll() {
    try {
      const response = await fetch(box.dataset.statusUrl, {headers: {Accept: "application/json"}});
      if (response.ok) {
        const run = await response.json();
        if (!run.can_stop) {
          window.location.reload();
          return;
        }
        $("run-status").className = "badge " + run.status;
        $("run-status").textContent = run.status_label;
        $("steps").textContent = "step " + run.step + " of " + run.total_steps;
        const scoring = run.status === "running" && run.step >= run.total_steps;
        $("eta").textContent = scoring ? "training done; scoring the model on every benchmark…" : duration(run.eta_seconds);
        $("bar").max = run.total_steps;
        $("bar").value = run.step;
        if (run.best_psnr != null) {
          $("best").textContent = "PSNR " + run.best_psnr.toFixed(2) + " dB, SSIM " + run.best_ssim.toFixed(4);
        }
        $("log").textContent = run.log;
        if (run.step !== lastStep) {
          lastStep = run.step;
          document.querySelectorAll("img[data-chart]").forEach((chart) => {
            chart.src = chart.src.split("?")[0] + "?step=" + run.step;
          });
        }
        showSamples(run.samples);
      }
    } catch (error) {
      $("eta").textContent = "Connection lost; retrying…";
    }
    setTimeout(poll, 2000);
  }
  setTimeout(poll, 1000);
})();
