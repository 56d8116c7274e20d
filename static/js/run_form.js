// Shows how long the run would take on the train worker, as the settings change.
(function () {
  const form = document.getElementById("run-form");
  if (!form) return;
  const out = document.getElementById("estimate");
  const names = ["architecture", "steps", "gan_steps", "batch", "patch"];

  async function update() {
    const query = new URLSearchParams(names.map((name) => [name, form.elements[name].value || "0"]));
    try {
      const response = await fetch(form.dataset.estimateUrl + "?" + query, {headers: {Accept: "application/json"}});
      out.textContent = "Estimate: " + (await response.json()).text;
    } catch (error) {
      out.textContent = "";
    }
  }
  names.forEach((name) => form.elements[name].addEventListener("input", update));
  update();
})();
