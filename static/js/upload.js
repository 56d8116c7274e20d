// The upload page. Photos chosen, dropped anywhere on the page or pasted become cards; a
// sharp reference is added on its card, or paired by name (x.jpg with x-sharp.jpg). The
// limits the server sets are checked here first, so a refused file is never sent; the
// server checks everything again. Each photo is sent on its own request, with its
// reference, so that it has its own progress bar and its own refusal: a bad reference is
// marked on its card, and the other cards stay as they are. Once all are queued, the page
// goes to the history with the messages the plain form gives. Without this script the
// form posts as it is.
(function () {
  "use strict";
  const form = document.getElementById("upload-form");
  const input = form && form.querySelector("input[name=images]");
  const limitsElement = document.getElementById("upload-limits");
  if (!form || !input || !limitsElement || !window.FormData || !window.DataTransfer) return;

  const limits = JSON.parse(limitsElement.textContent);
  const list = document.getElementById("upload-cards");
  const status = document.getElementById("upload-status");
  const overlay = document.getElementById("drop-overlay");
  const button = document.getElementById("upload-button");
  const csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  const CONCURRENT = 2;
  // As upload.css tells a touch screen's words from a mouse's.
  const TOUCH = window.matchMedia("(hover: none) and (pointer: coarse)");
  const cards = [];
  const queued = []; // ids of the photos this page has queued, across sends
  let nextId = 0;
  let sending = false;

  // The cards carry the references (reference_<n>), so the plain form's one goes.
  document.getElementById("references").remove();
  input.classList.add("visually-hidden");
  // The photos are on the cards, not in the input, which the browser would then call empty.
  input.required = false;
  form.querySelectorAll(".drop-hint, .file-button, #pairing-help").forEach(function (el) { el.hidden = false; });

  function extension(name) {
    const dot = name.lastIndexOf(".");
    return dot > 0 ? name.slice(dot).toLowerCase() : "";
  }

  function stem(name) {
    const dot = name.lastIndexOf(".");
    return (dot > 0 ? name.slice(0, dot) : name).toLowerCase();
  }

  // "street" for street-sharp.jpg or Street_SHARP.png; null for other names.
  function sharpOf(name) {
    const match = /^(.+)[-_]sharp$/.exec(stem(name));
    return match && limits.extensions.includes(extension(name)) ? match[1] : null;
  }

  function size(bytes) {
    if (bytes >= 1024 * 1024) return (bytes / 1024 / 1024).toFixed(1).replace(/\.0$/, "") + " MB";
    return Math.max(1, Math.round(bytes / 1024)) + " KB";
  }

  function refusal(file) {
    if (!limits.types.includes(file.type) && !limits.extensions.includes(extension(file.name))) {
      return "Not an image type we accept. Please choose a " + limits.typeNames + " image.";
    }
    if (file.size === 0) return "The file is empty.";
    if (file.size > limits.maxBytes) return "The file is " + size(file.size) + ", larger than the " + size(limits.maxBytes) + " limit.";
    return null;
  }

  function tooSmall(image) {
    const w = image.naturalWidth, h = image.naturalHeight;
    if (!w || Math.min(w, h) >= limits.minSide) return null;
    return "The image is " + w + "×" + h + " pixels; photos must be at least " + limits.minSide + " pixels on each side.";
  }

  function announce(text, link) {
    status.replaceChildren(text);
    if (link) status.append(" ", link);
  }

  function element(tag, className, text) {
    const el = document.createElement(tag);
    if (className) el.className = className;
    if (text) el.textContent = text;
    return el;
  }

  // A card refused for its photo or its reference waits until it is fixed or removed; one
  // that failed for another reason (the connection, the store) can be sent again as it is.
  function sendable(card) {
    const retry = card.state === "failed" && card.error.field !== "image" && card.error.field !== "reference";
    return (card.state === "ready" || retry) && !card.refusal && !card.overCount && !card.referenceRefusal;
  }

  function addCard(file) {
    const n = nextId++;
    const card = { n: n, file: file, url: URL.createObjectURL(file), reference: null, referenceUrl: null, paired: false,
      refusal: refusal(file), referenceRefusal: null, overCount: false, state: "ready", error: null, photo: null };
    const li = element("li", "upload-card");
    const thumb = element("img", "upload-thumb");
    thumb.alt = "";
    thumb.addEventListener("load", function () {
      card.dimensions = thumb.naturalWidth + "×" + thumb.naturalHeight;
      card.refusal = card.refusal || tooSmall(thumb);
      recount();
    });
    // Browsers show no TIFF or HEIC: the card shows the type instead.
    thumb.addEventListener("error", function () {
      const placeholder = element("span", "upload-thumb placeholder", extension(file.name).slice(1).toUpperCase() || "?");
      thumb.replaceWith(placeholder);
    });
    thumb.src = card.url;
    const body = element("div", "upload-card-body");
    const name = element("p", "upload-name");
    const referenceLine = element("div", "upload-reference");
    const pick = element("div", "upload-reference-pick");
    const picker = element("input", "visually-hidden");
    picker.type = "file";
    picker.name = picker.id = "reference_" + n;
    picker.accept = input.accept;
    const pickLabel = element("label", "button secondary");
    pickLabel.htmlFor = picker.id;
    picker.addEventListener("change", function () {
      if (picker.files.length) setReference(card, picker.files[0], false);
      picker.value = "";
    });
    pick.append(picker, pickLabel);
    const bar = element("progress");
    bar.setAttribute("aria-label", "Upload of " + file.name);
    bar.max = 100;
    bar.value = 0;
    bar.hidden = true;
    const cardStatus = element("p", "upload-card-status");
    body.append(name, referenceLine, pick, bar, cardStatus);
    const remove = element("button", "upload-remove", "×");
    remove.type = "button";
    remove.setAttribute("aria-label", "Remove " + file.name);
    remove.addEventListener("click", function () { removeCard(card); });
    li.append(thumb, body, remove);
    list.append(li);
    card.el = { li: li, name: name, referenceLine: referenceLine, pick: pick, pickLabel: pickLabel, picker: picker,
      bar: bar, status: cardStatus, remove: remove };
    cards.push(card);
    return card;
  }

  function setReference(card, file, paired) {
    if (card.referenceUrl) URL.revokeObjectURL(card.referenceUrl);
    card.reference = file;
    card.paired = paired;
    card.referenceUrl = file ? URL.createObjectURL(file) : null;
    card.referenceRefusal = file ? refusal(file) : null;
    if (card.error && card.error.field === "reference") card.error = null;
    if (card.state === "failed" && !card.error) card.state = "ready";
    update(card);
  }

  function removeCard(card) {
    const index = cards.indexOf(card);
    URL.revokeObjectURL(card.url);
    if (card.referenceUrl) URL.revokeObjectURL(card.referenceUrl);
    card.el.li.remove();
    cards.splice(index, 1);
    recount();
    const next = cards[index] || cards[index - 1];
    (next && next.state !== "queued" ? next.el.remove : input).focus();
    announce("Removed " + card.file.name + ".");
  }

  // Over the limit per batch, the last cards wait for the next one.
  function recount() {
    let active = 0;
    cards.forEach(function (card) {
      card.overCount = false;
      if (card.state === "queued" || card.refusal) return;
      active += 1;
      card.overCount = active > limits.maxFiles;
    });
    cards.forEach(update);
  }

  function referenceText(card) {
    const reference = card.reference;
    const line = element("p", "", "Sharp reference: ");
    line.append(element("strong", "", reference.name), " (" + size(reference.size) + (card.paired ? ", paired by name" : "") + ")");
    return line;
  }

  function update(card) {
    const el = card.el;
    const busy = card.state === "sending" || card.state === "queued";
    el.li.dataset.state = card.refusal || card.overCount || card.referenceRefusal ? "refused" : card.state;
    el.name.replaceChildren(element("strong", "", card.file.name),
      " ", element("span", "muted", size(card.file.size) + (card.dimensions ? " · " + card.dimensions : "")));
    el.referenceLine.replaceChildren();
    if (card.reference) {
      const thumb = element("img", "upload-reference-thumb");
      thumb.alt = "";
      thumb.src = card.referenceUrl;
      thumb.addEventListener("load", function () {
        const small = tooSmall(thumb);
        if (small && !card.referenceRefusal) {
          card.referenceRefusal = small;
          update(card);
        }
      }, { once: true });
      thumb.addEventListener("error", function () { thumb.remove(); }, { once: true });
      el.referenceLine.append(thumb, referenceText(card));
      const problem = card.referenceRefusal || (card.error && card.error.field === "reference" && card.error.text);
      if (problem) el.referenceLine.append(element("p", "upload-error", "Reference refused: " + problem));
      if (!busy) {
        const drop = element("button", "link upload-drop-reference", "Remove reference");
        drop.type = "button";
        drop.addEventListener("click", function () { setReference(card, null, false); el.picker.focus(); });
        el.referenceLine.append(drop);
      }
    }
    el.pick.hidden = busy || Boolean(card.refusal);
    el.pickLabel.textContent = card.reference ? "Change sharp reference" : "Add sharp reference";
    el.remove.hidden = busy;
    el.bar.hidden = card.state !== "sending" && card.state !== "queued";
    el.status.className = "upload-card-status";
    el.status.replaceChildren();
    if (card.state === "sending") {
      el.status.textContent = progressText(el.bar.value);
    } else if (card.refusal || card.overCount) {
      el.status.classList.add("upload-error");
      el.status.textContent = "Not sent: " +
        (card.refusal || "over the limit of " + limits.maxFiles + " photos at a time; send it with the next batch.");
    } else if (card.state === "queued") {
      const open = element("a", "", "Open");
      open.href = card.photo.url;
      el.status.append("Queued for deblurring. ", open);
    } else if (card.error && card.error.field !== "reference") {
      el.status.classList.add("upload-error");
      el.status.textContent = card.error.text;
    }
  }

  function progressText(percent) {
    return percent < 100 ? "Uploading… " + percent + " %" : "Uploaded 100 %, checking…";
  }

  function progress(card, fraction) {
    card.el.bar.value = Math.round(fraction * 100);
    card.el.status.textContent = progressText(card.el.bar.value);
  }

  // Screenshots come from the clipboard as "image.png": they get the time they were pasted.
  function pastedName(file, index) {
    if (file.name && !/^image\.\w+$/i.test(file.name)) return file;
    const now = new Date();
    const two = function (value) { return String(value).padStart(2, "0"); };
    const ext = { "image/jpeg": "jpg", "image/webp": "webp", "image/tiff": "tif" }[file.type] || "png";
    const base = "pasted-" + now.getFullYear() + "-" + two(now.getMonth() + 1) + "-" + two(now.getDate()) +
      "-" + two(now.getHours()) + two(now.getMinutes());
    const taken = new Set(cards.map(function (card) { return card.file.name; }));
    let name = base + (index ? "-" + (index + 1) : "") + "." + ext;
    for (let i = 2; taken.has(name); i++) name = base + "-" + i + "." + ext;
    return new File([file], name, { type: file.type, lastModified: now.getTime() });
  }

  function addFiles(files) {
    files = Array.from(files);
    if (!files.length) return;
    // Cards waiting for a reference, by name; then this batch's photos.
    const byName = new Map();
    cards.forEach(function (card) { if (!card.reference && card.state !== "queued") byName.set(stem(card.file.name), card); });
    const photos = files.filter(function (file) { return sharpOf(file.name) === null; });
    const sharp = files.filter(function (file) { return sharpOf(file.name) !== null; });
    const added = photos.map(function (file) {
      const card = addCard(file);
      if (!byName.has(stem(file.name))) byName.set(stem(file.name), card);
      return card;
    });
    let paired = 0;
    sharp.forEach(function (file) {
      const card = byName.get(sharpOf(file.name));
      if (card && !card.reference) {
        setReference(card, file, true);
        paired += 1;
      } else {
        added.push(addCard(file));
      }
    });
    recount();
    const refused = added.filter(function (card) { return card.refusal || card.overCount; }).length;
    let text = "Added " + added.length + " photo" + (added.length === 1 ? "" : "s");
    if (paired) text += " and " + paired + " sharp reference" + (paired === 1 ? "" : "s") + " paired by name";
    if (refused) text += "; " + refused + " cannot be sent (see " + (refused === 1 ? "its card" : "their cards") + ")";
    announce(text + ".");
  }

  input.addEventListener("change", function () {
    addFiles(input.files);
    input.value = "";
  });

  document.addEventListener("paste", function (event) {
    const files = Array.from((event.clipboardData && event.clipboardData.files) || []);
    if (!files.length) return;
    event.preventDefault();
    addFiles(files.map(pastedName));
  });

  // Anywhere on the page; the overlay counts enters and leaves, as they come from every
  // element the pointer crosses.
  let depth = 0;
  function carriesFiles(event) {
    return event.dataTransfer && Array.from(event.dataTransfer.types || []).includes("Files");
  }
  document.addEventListener("dragenter", function (event) {
    if (!carriesFiles(event)) return;
    depth += 1;
    overlay.hidden = false;
  });
  document.addEventListener("dragleave", function (event) {
    if (!carriesFiles(event)) return;
    depth = Math.max(0, depth - 1);
    if (!depth) overlay.hidden = true;
  });
  document.addEventListener("dragover", function (event) {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
  });
  document.addEventListener("drop", function (event) {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    depth = 0;
    overlay.hidden = true;
    addFiles(event.dataTransfer.files);
  });

  function answer(xhr) {
    try {
      return JSON.parse(xhr.responseText);
    } catch (error) {
      return null;
    }
  }

  function send(card) {
    return new Promise(function (resolve) {
      const data = new FormData();
      data.append("csrfmiddlewaretoken", csrf);
      const model = form.querySelector("input[name=model]:checked");
      if (model) data.append("model", model.value);
      if (form.elements.keep_location.checked) data.append("keep_location", "on");
      data.append("images", card.file, card.file.name);
      if (card.reference) data.append("reference_0", card.reference, card.reference.name);
      const xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", function (event) {
        if (event.lengthComputable) progress(card, event.loaded / event.total);
      });
      xhr.upload.addEventListener("load", function () { progress(card, 1); });
      xhr.addEventListener("load", function () {
        const body = answer(xhr);
        if (xhr.status === 201 && body) {
          card.state = "queued";
          card.photo = body;
          card.el.bar.value = 100;
          queued.push(body.id);
        } else {
          card.state = "failed";
          const text = body && body.error ? body.error
            : "The server refused the upload (" + xhr.status + "). Reload the page and try again.";
          card.error = { field: body && body.field, text: text };
          announce(card.file.name + ": " + (card.error.field === "reference" ? "the sharp reference was refused. " : "") + text);
        }
        update(card);
        resolve();
      });
      xhr.addEventListener("error", function () {
        card.state = "failed";
        card.error = { field: null, text: "The connection failed before the upload finished; nothing was kept. Send it again." };
        update(card);
        resolve();
      });
      card.state = "sending";
      card.error = null;
      update(card);
      progress(card, 0);
      xhr.send(data);
    });
  }

  async function sendAll(todo) {
    const waiting = todo.slice();
    async function lane() {
      while (waiting.length) await send(waiting.shift());
    }
    await Promise.all(Array.from({ length: Math.min(CONCURRENT, waiting.length) }, lane));
  }

  // The history, with the messages the plain form's upload would give.
  function done() {
    const go = element("form");
    go.method = "post";
    go.action = form.dataset.doneUrl;
    go.hidden = true;
    [["csrfmiddlewaretoken", csrf]].concat(queued.map(function (id) { return ["ids", id]; })).forEach(function (pair) {
      const field = element("input");
      field.type = "hidden";
      field.name = pair[0];
      field.value = pair[1];
      go.append(field);
    });
    document.body.append(go);
    go.submit();
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    if (sending) return;
    const todo = cards.filter(sendable);
    if (!todo.length) {
      if (queued.length && !cards.some(function (card) { return card.state === "failed"; })) return done();
      announce(cards.length ? "Nothing to send: fix or remove the photos marked below."
        : TOUCH.matches ? "Choose or take at least one photo first." : "Choose, drop or paste at least one photo first.");
      return;
    }
    sending = true;
    button.disabled = true;
    announce("Uploading " + todo.length + " photo" + (todo.length === 1 ? "" : "s") + "…");
    await sendAll(todo);
    sending = false;
    button.disabled = false;
    const failed = cards.filter(function (card) { return card.state === "failed"; }).length;
    const added = cards.filter(function (card) { return card.state === "ready" && sendable(card); }).length;
    if (!failed && !added) return done();
    let text = queued.length + " photo" + (queued.length === 1 ? "" : "s") + " queued.";
    if (failed) {
      text += " " + failed + " not: fix or remove " + (failed === 1 ? "it" : "them") + " below, then press Upload and deblur again.";
    }
    else text += " Press Upload and deblur again to send the " + added + " added since.";
    const history = element("a", "", "See the queued photos");
    history.href = form.dataset.historyUrl;
    announce(text, queued.length ? history : null);
  });
})();
