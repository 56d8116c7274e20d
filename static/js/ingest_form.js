// Shows only the fields the chosen source needs; the server checks them all the same.
(function () {
  const form = document.getElementById("ingest-form");
  if (!form) return;
  const fields = {
    unsplash: ["query", "count", "licence_basis"],
    folder: ["path", "licence"],
    upload: ["archive", "licence"],
    pairs: ["path", "licence"],
  };
  const optional = ["query", "count", "licence_basis", "path", "archive", "licence"];

  function update() {
    const chosen = form.querySelector("input[name=source]:checked");
    const shown = fields[chosen ? chosen.value : "folder"];
    for (const name of optional) {
      form.querySelector(".field-" + name).hidden = !shown.includes(name);
    }
  }
  form.addEventListener("change", update);
  update();
})();
