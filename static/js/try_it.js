// The try-it page: the strength in words as the slider moves, a preview of the chosen
// photo, and one submission at a time (blurring takes a second or two).
(function () {
  "use strict";
  const form = document.getElementById("try-it-form");
  if (!form) return;
  const slider = form.querySelector("input[name=strength]");
  const value = document.getElementById("strength-value");
  const input = form.querySelector("input[name=image]");
  const preview = document.getElementById("try-preview");
  const button = document.getElementById("try-it-button");

  function describe() {
    const percent = Number(slider.value);
    const word = percent < 34 ? "light" : percent < 67 ? "medium" : "strong";
    value.textContent = percent + " % (" + word + ")";
  }
  slider.addEventListener("input", describe);
  describe();

  input.addEventListener("change", function () {
    if (preview.src) URL.revokeObjectURL(preview.src);
    const file = input.files[0];
    preview.hidden = !file;
    if (file) preview.src = URL.createObjectURL(file);
  });
  preview.addEventListener("error", function () { preview.hidden = true; });

  form.addEventListener("submit", function (event) {
    if (button.disabled) {
      event.preventDefault();
      return;
    }
    // Disabled after this event, or the browser would not send the form.
    setTimeout(function () {
      button.disabled = true;
      button.textContent = "Blurring…";
    });
  });
})();
