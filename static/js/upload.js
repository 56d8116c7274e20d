// One optional sharp-reference input per chosen photo, named reference_<i>
// in the order of the files, which is the order the server reads them in.
(function () {
  const images = document.querySelector("input[name=images]");
  const rows = document.getElementById("reference-rows");
  if (!images || !rows) return;

  images.addEventListener("change", function () {
    rows.replaceChildren();
    Array.from(images.files).forEach(function (file, i) {
      const row = document.createElement("p");
      row.className = "reference-row";
      const label = document.createElement("label");
      label.htmlFor = "reference_" + i;
      label.textContent = "Sharp reference for " + file.name;
      const input = document.createElement("input");
      input.type = "file";
      input.name = input.id = "reference_" + i;
      input.accept = "image/*";
      row.append(label, input);
      rows.append(row);
    });
  });
})();
