// The photo page's viewer: the original and the result (or the sharp reference) under one
// before/after split, zoomed and panned together. Screen-sized previews load first; a
// layer switches to its full-resolution file only once zoomed past what its preview holds.
// The strength slider lays the model's full result over the original at that opacity,
// which is the blend the downloads apply on the server. A photo with several results can
// show any of them on either side of the split (the compare menus); two results side by
// side are each at 100 %, the strength being the current result's against the original.
(function () {
  const viewer = document.getElementById("viewer");
  if (!viewer) return;
  const stage = document.getElementById("viewer-stage");
  const original = document.getElementById("original-image");
  const result = document.getElementById("result-image");
  const reference = document.getElementById("reference-image");
  const divider = document.getElementById("viewer-divider");
  const afterLabel = document.getElementById("after-label");
  const loading = document.getElementById("viewer-loading");
  const holdButton = document.getElementById("hold-original");
  const zoomButtons = viewer.querySelectorAll("[data-zoom]");
  const beforeLabel = viewer.querySelector(".viewer-label.before");
  const compareLeft = document.getElementById("compare-left");
  const compareRight = document.getElementById("compare-right");
  const layers = [original, result, reference].filter(Boolean);
  const width = Number(viewer.dataset.width);
  const height = Number(viewer.dataset.height);

  const MAX_ZOOM = 8; // screen pixels per image pixel
  const ZOOM_STEP = 1.5; // the most one turn of the wheel zooms
  const WHEEL_LINE = 40; // px per line of a wheel that counts in lines
  const PAN_STEP = 0.15; // of the stage, per arrow key
  const SPLIT_STEP = 1; // per cent, per arrow key on the divider; Shift and Page keys: 10
  const DRAG_THRESHOLD = 4; // px a press moves before it is a drag rather than a click

  // scale: CSS px per image px; (x, y): the image's top-left corner in the stage.
  const view = {scale: 1, x: 0, y: 0, fitted: true, split: 50, showing: "result", strength: 1};
  // What each side shows, by name: the photo's (before) and the current result's at first.
  const sides = {left: viewer.dataset.before, right: "result"};

  const ratio = () => window.devicePixelRatio || 1;
  const stageWidth = () => stage.clientWidth;
  const stageHeight = () => stage.clientHeight;
  const fitScale = () => Math.min(stageWidth() / width, stageHeight() / height);
  const minScale = () => Math.min(fitScale(), 1 / ratio());
  const maxScale = () => Math.max(fitScale(), MAX_ZOOM / ratio());
  const canPan = () => width * view.scale > stageWidth() + 0.5 || height * view.scale > stageHeight() + 0.5;
  const percent = (fraction) => Math.round(fraction * 100) + " %";

  for (const layer of layers) {
    layer.style.width = width + "px";
    layer.style.height = height + "px";
    layer.addEventListener("load", render);
  }

  function clampPan() {
    const shownWidth = width * view.scale;
    const shownHeight = height * view.scale;
    const w = stageWidth();
    const h = stageHeight();
    view.x = shownWidth <= w ? (w - shownWidth) / 2 : Math.min(0, Math.max(w - shownWidth, view.x));
    view.y = shownHeight <= h ? (h - shownHeight) / 2 : Math.min(0, Math.max(h - shownHeight, view.y));
  }

  function render() {
    if (view.fitted) view.scale = fitScale();
    clampPan();
    // On whole screen pixels, so that at 100 % each image pixel is one screen pixel.
    const r = ratio();
    const transform = `translate(${Math.round(view.x * r) / r}px, ${Math.round(view.y * r) / r}px) scale(${view.scale})`;
    for (const layer of layers) layer.style.transform = transform;
    const density = view.scale * r;
    viewer.classList.toggle("pixelated", density > 1.01 && !view.fitted);
    viewer.classList.toggle("pannable", canPan());
    // Fitted, a vertical swipe still scrolls the page; zoomed in, every touch is the viewer's.
    stage.style.touchAction = canPan() ? "none" : "pan-y";
    for (const button of zoomButtons) {
      const pressed = button.dataset.zoom === "fit" ? view.fitted : Math.abs(density - Number(button.dataset.zoom)) < 0.001;
      button.setAttribute("aria-pressed", String(pressed));
    }
    for (const layer of visibleLayers()) {
      // The preview is enough while the screen shows no more pixels than it has.
      if (layer.naturalWidth && width * density > layer.naturalWidth * 1.01) loadFull(layer);
    }
  }

  function visibleLayers() {
    return [original, view.showing === "result" ? result : reference].filter(Boolean);
  }

  function loadFull(layer) {
    if (layer.dataset.state) return; // loading, loaded or failed
    layer.dataset.state = "loading";
    updateLoading();
    const image = new Image();
    image.src = layer.dataset.full;
    image
      .decode()
      .then(() => {
        layer.src = layer.dataset.full;
        layer.dataset.state = "full";
      })
      .catch(() => {
        layer.dataset.state = "failed";
      })
      .finally(updateLoading);
  }

  function updateLoading() {
    loading.hidden = !visibleLayers().some((layer) => layer.dataset.state === "loading");
  }

  function zoomTo(scale, atX = stageWidth() / 2, atY = stageHeight() / 2) {
    const clamped = Math.min(maxScale(), Math.max(minScale(), scale));
    // The image point under (atX, atY) stays there.
    const imageX = (atX - view.x) / view.scale;
    const imageY = (atY - view.y) / view.scale;
    view.scale = clamped;
    view.fitted = Math.abs(clamped - fitScale()) < fitScale() * 0.001;
    view.x = atX - imageX * clamped;
    view.y = atY - imageY * clamped;
    render();
  }

  // + and − step through Fit and the powers of two in screen pixels per image pixel, so
  // that they stop at the levels the zoom buttons name, and those buttons show it.
  function zoomStep(direction) {
    const levels = [fitScale()];
    for (let density = MAX_ZOOM; density >= 1 / 64; density /= 2) levels.push(density / ratio());
    const next = levels.filter((scale) => (direction > 0 ? scale > view.scale * 1.001 : scale < view.scale / 1.001));
    zoomTo(direction > 0 ? Math.min(...next) : Math.max(...next));
  }

  function zoomLevel(level) {
    if (level === "fit") {
      view.fitted = true;
      render();
    } else {
      zoomTo(Number(level) / ratio());
    }
  }

  function panBy(dx, dy) {
    view.x += dx;
    view.y += dy;
    view.fitted = false;
    render();
  }

  function setSplit(value) {
    if (!divider) return;
    view.split = Math.min(100, Math.max(0, Math.round(value)));
    viewer.style.setProperty("--split", view.split + "%");
    divider.setAttribute("aria-valuenow", String(view.split));
    const right = view.showing === "result" ? sides.right : viewer.dataset.reference.toLowerCase();
    divider.setAttribute("aria-valuetext", `${view.split} %: ${sides.left} on the left, ${right} on the right`);
  }

  function showOriginal(on) {
    viewer.classList.toggle("showing-original", on);
    if (holdButton) holdButton.setAttribute("aria-pressed", String(on));
  }

  function showAfter(which) {
    view.showing = which;
    if (result) result.hidden = which !== "result";
    if (reference) reference.hidden = which !== "reference";
    if (which === "reference") loadFull(reference);
    updateAfterLabel();
    setSplit(view.split);
    updateLoading();
    render();
  }

  function updateAfterLabel() {
    if (afterLabel) afterLabel.textContent = view.showing === "result" ? `${afterLabel.dataset.name} · ${percent(shownStrength())}` : viewer.dataset.reference;
  }

  // The strength blends the current result over the original; any other pair is shown as it is.
  function shownStrength() {
    const photoLeft = !compareLeft || compareLeft.value === "photo";
    const currentRight = !compareRight || compareRight.selectedOptions[0].dataset.current === "1";
    return photoLeft && currentRight ? view.strength : 1;
  }

  function showStrengthOnLayer() {
    if (result) result.style.opacity = String(shownStrength());
    updateAfterLabel();
  }

  // -- pointers: drag the split or pan, click to move the split, pinch to zoom --------

  const pointers = new Map();
  let gesture = null;

  function at(event) {
    const box = stage.getBoundingClientRect();
    return {x: event.clientX - box.left, y: event.clientY - box.top};
  }

  function distance(a, b) {
    return Math.hypot(a.x - b.x, a.y - b.y);
  }

  function startPinch() {
    const [a, b] = [...pointers.values()];
    gesture = {
      kind: "pinch",
      distance: Math.max(1, distance(a, b)),
      scale: view.scale,
      imageX: ((a.x + b.x) / 2 - view.x) / view.scale,
      imageY: ((a.y + b.y) / 2 - view.y) / view.scale,
    };
  }

  function movePinch() {
    const [a, b] = [...pointers.values()];
    const scale = Math.min(maxScale(), Math.max(minScale(), (gesture.scale * distance(a, b)) / gesture.distance));
    // The image point first under the fingers' midpoint follows the midpoint.
    view.scale = scale;
    view.fitted = Math.abs(scale - fitScale()) < fitScale() * 0.001;
    view.x = (a.x + b.x) / 2 - gesture.imageX * scale;
    view.y = (a.y + b.y) / 2 - gesture.imageY * scale;
    render();
  }

  function startPan(point) {
    gesture = {kind: "pan", start: point, x: view.x, y: view.y};
  }

  stage.addEventListener("pointerdown", (event) => {
    if (event.pointerType === "mouse" && event.button !== 0) return;
    const point = at(event);
    stage.setPointerCapture(event.pointerId);
    pointers.set(event.pointerId, point);
    if (pointers.size === 2) return startPinch();
    if (pointers.size > 2) return;
    const onDivider = divider && divider.contains(event.target);
    // The keys work on what the mouse took; a finger needs no keyboard focus, nor its outline.
    if (event.pointerType === "mouse") (onDivider ? divider : stage).focus({preventScroll: true});
    event.preventDefault();
    if (onDivider) {
      gesture = {kind: "split"};
    } else if (canPan()) {
      gesture = {kind: "press", start: point, x: view.x, y: view.y};
    } else if (divider && event.pointerType === "mouse") {
      gesture = {kind: "split"};
      setSplit((point.x / stageWidth()) * 100);
    } else if (divider) {
      // A touch may be the start of a page scroll: the split follows a sideways drag or a tap.
      gesture = {kind: "tap", start: point};
    } else {
      gesture = null;
    }
  });

  stage.addEventListener("pointermove", (event) => {
    if (!pointers.has(event.pointerId) || !gesture) return;
    const point = at(event);
    pointers.set(event.pointerId, point);
    if (gesture.kind === "pinch") return movePinch();
    if (gesture.kind === "press" && distance(point, gesture.start) > DRAG_THRESHOLD) gesture.kind = "pan";
    if (gesture.kind === "tap" && Math.abs(point.x - gesture.start.x) > DRAG_THRESHOLD) gesture.kind = "split";
    if (gesture.kind === "pan") {
      view.x = gesture.x + point.x - gesture.start.x;
      view.y = gesture.y + point.y - gesture.start.y;
      view.fitted = false;
      render();
    } else if (gesture.kind === "split") {
      setSplit((point.x / stageWidth()) * 100);
    }
  });

  function endPointer(event, cancelled) {
    if (!pointers.has(event.pointerId)) return;
    pointers.delete(event.pointerId);
    if (gesture && !cancelled && (gesture.kind === "press" || gesture.kind === "tap")) {
      setSplit((at(event).x / stageWidth()) * 100); // a click moves the split there
    }
    if (gesture && gesture.kind === "pinch" && pointers.size === 1) {
      startPan([...pointers.values()][0]);
    } else if (pointers.size === 0) {
      gesture = null;
    }
  }

  stage.addEventListener("pointerup", (event) => endPointer(event, false));
  stage.addEventListener("pointercancel", (event) => endPointer(event, true));

  // The wheel zooms at the pointer. On a page that scrolls it takes Ctrl as well, so that the
  // plain wheel still scrolls the page; a trackpad pinch comes as Ctrl and the wheel.
  const pageScrolls = () => document.documentElement.scrollHeight > window.innerHeight;
  stage.addEventListener(
    "wheel",
    (event) => {
      if (!event.ctrlKey && pageScrolls()) return;
      event.preventDefault();
      const pixels = event.deltaY * (event.deltaMode === WheelEvent.DOM_DELTA_LINE ? WHEEL_LINE : 1);
      const factor = Math.min(ZOOM_STEP, Math.max(1 / ZOOM_STEP, Math.exp(-pixels * 0.01)));
      const point = at(event);
      zoomTo(view.scale * factor, point.x, point.y);
    },
    {passive: false},
  );

  // -- keys ---------------------------------------------------------------------------

  if (divider) {
    divider.addEventListener("keydown", (event) => {
      const big = 10;
      const small = event.shiftKey ? big : SPLIT_STEP;
      const moves = {
        ArrowLeft: -small, ArrowDown: -small, ArrowRight: small, ArrowUp: small, PageDown: -big, PageUp: big,
      };
      if (event.key in moves) setSplit(view.split + moves[event.key]);
      else if (event.key === "Home") setSplit(0);
      else if (event.key === "End") setSplit(100);
      else return;
      event.preventDefault();
    });
  }

  stage.addEventListener("keydown", (event) => {
    if (event.target !== stage || !canPan()) return;
    const step = PAN_STEP * (event.shiftKey ? 3 : 1);
    const moves = {
      ArrowLeft: [step * stageWidth(), 0], ArrowRight: [-step * stageWidth(), 0],
      ArrowUp: [0, step * stageHeight()], ArrowDown: [0, -step * stageHeight()],
    };
    if (!(event.key in moves)) return;
    event.preventDefault();
    panBy(...moves[event.key]);
  });

  function typing(target) {
    return target.matches("textarea, select, input:not([type=range]):not([type=radio]):not([type=checkbox])");
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    const levels = {0: "fit", 1: "1", 2: "2"};
    if (event.key === "+" || event.key === "=") zoomStep(1);
    else if (event.key === "-" || event.key === "_") zoomStep(-1);
    else if (event.key in levels) zoomLevel(levels[event.key]);
    else if ((event.key === "o" || event.key === "O") && holdButton) {
      if (!event.repeat) showOriginal(true);
    } else return;
    event.preventDefault();
  });
  document.addEventListener("keyup", (event) => {
    if (event.key === "o" || event.key === "O") showOriginal(false);
  });
  window.addEventListener("blur", () => showOriginal(false));

  // -- controls -----------------------------------------------------------------------

  for (const button of zoomButtons) button.addEventListener("click", () => zoomLevel(button.dataset.zoom));

  if (holdButton) {
    holdButton.addEventListener("pointerdown", (event) => {
      holdButton.setPointerCapture(event.pointerId);
      showOriginal(true);
    });
    for (const type of ["pointerup", "pointercancel", "lostpointercapture"]) {
      holdButton.addEventListener(type, () => showOriginal(false));
    }
    holdButton.addEventListener("keydown", (event) => {
      if (event.key !== " " && event.key !== "Enter") return;
      event.preventDefault();
      showOriginal(true);
    });
    holdButton.addEventListener("keyup", () => showOriginal(false));
    holdButton.addEventListener("contextmenu", (event) => event.preventDefault()); // a long press on a phone
  }

  for (const radio of viewer.querySelectorAll("input[name=viewer-view]")) {
    radio.addEventListener("change", () => showAfter(radio.value));
  }

  // -- compare: either side shows the photo or any of its results ---------------------

  // A layer's own pictures, for a side that goes back to them; holding shows the left side.
  const own = new Map(layers.map((layer) => [layer, {preview: layer.getAttribute("src"), full: layer.dataset.full}]));
  const holdText = holdButton ? holdButton.textContent : "";

  function showOn(layer, pictures) {
    if (layer.dataset.full === pictures.full) return;
    // The new picture's preview first; render() loads its full resolution when zoomed in.
    delete layer.dataset.state;
    layer.dataset.full = pictures.full;
    layer.src = pictures.preview;
    updateLoading();
  }

  function compare() {
    const left = compareLeft.selectedOptions[0];
    const right = compareRight.selectedOptions[0];
    showOn(original, left.value === "photo" ? own.get(original) : left.dataset);
    showOn(result, right.dataset);
    sides.left = left.dataset.name;
    sides.right = right.dataset.name.toLowerCase();
    beforeLabel.textContent = left.dataset.name;
    if (afterLabel) afterLabel.dataset.name = right.dataset.name;
    if (holdButton) holdButton.textContent = left.value === "photo" ? holdText : `Hold to see ${left.dataset.name.toLowerCase()}`;
    showStrengthOnLayer();
    setSplit(view.split);
    render();
  }

  if (compareLeft && compareRight) {
    compareLeft.addEventListener("change", compare);
    compareRight.addEventListener("change", compare);
  }

  // -- strength: live in the viewer, saved for the downloads ---------------------------

  const form = document.getElementById("strength-form");
  if (form) {
    const input = form.elements.strength;
    const output = document.getElementById("strength-value");
    const status = document.getElementById("strength-status");
    const save = document.getElementById("strength-save");
    const used = document.getElementById("strength-used");
    let saved = Number(form.dataset.saved);

    const showStrength = () => {
      view.strength = Number(input.value);
      output.textContent = percent(view.strength);
      input.setAttribute("aria-valuetext", percent(view.strength));
      showStrengthOnLayer();
      const changed = Math.abs(view.strength - saved) > 1e-6;
      save.disabled = !changed;
      status.textContent = changed
        ? `Not saved yet: downloads use ${percent(saved)}.`
        : `Saved: downloads use ${percent(saved)}.`;
    };
    input.addEventListener("input", showStrength);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      save.disabled = true;
      status.textContent = "Saving…";
      try {
        const response = await fetch(form.action, {
          method: "POST",
          body: new FormData(form),
          headers: {Accept: "application/json"},
          credentials: "same-origin",
        });
        const answer = await response.json().catch(() => ({}));
        if (!response.ok) throw new Error(answer.errors ? answer.errors.strength[0].message : "the site refused it.");
        saved = answer.strength;
        form.dataset.saved = String(saved);
        if (used) used.textContent = percent(saved);
        showStrength();
      } catch (error) {
        // A TypeError is fetch's: the connection failed.
        const why = error instanceof TypeError ? "the connection failed." : error.message;
        status.textContent = `Not saved: ${why} Try again.`;
        save.disabled = false;
      }
    });
    showStrength();
  }

  window.addEventListener("resize", render);
  setSplit(view.split);
  updateAfterLabel();
  render();
})();
