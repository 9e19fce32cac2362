// The organisers' floor-plan editor: booths drawn as SVG are chosen, dragged, resized (snapping to the grid) and
// edited in the side form; every change is saved at once as JSON. A refusal (an overlap, outside the hall, a
// number already used, a booked booth) is shown in the page's language and the booth is put back where the
// server says it is. The booth list under the plan follows each saved or deleted booth, its rows drawn by the server.
// Without JavaScript the side form adds booths by their coordinates.
(() => {
  "use strict";

  const SVG_NS = "http://www.w3.org/2000/svg";
  const root = document.getElementById("booth-editor");
  if (!root) {
    return;
  }
  const texts = root.dataset;
  const unit = Number(texts.unit);
  const hall = { width: Number(texts.width), height: Number(texts.height) };
  const svg = document.getElementById("booth-plan");
  const shapes = document.getElementById("booth-shapes");
  const form = document.getElementById("booth-form");
  const title = document.getElementById("booth-form-title");
  const message = document.getElementById("editor-message");
  const newButton = document.getElementById("booth-new");
  const deleteButton = document.getElementById("booth-delete");
  const list = document.querySelector("#booth-list tbody");
  const listWrap = document.getElementById("booth-list-wrap");
  const listEmpty = document.getElementById("booth-list-empty");
  const WHOLE_FIELDS = ["x", "y", "w", "h", "price"];
  let selected = null; // the <g> of the booth in the side form, or null for a new one
  let handle = null;

  const boothOf = (shape) => JSON.parse(shape.dataset.booth);
  const csrfToken = () => form.querySelector("input[name=csrf_token]").value;

  function say(text, isError) {
    message.hidden = false;
    message.textContent = text;
    message.className = "flash " + (isError ? "flash-error" : "flash-success");
    message.setAttribute("role", isError ? "alert" : "status");
  }

  // --- the side form's fields ---------------------------------------------------------------------

  // Takes away every field's message (the server's, from a page sent without JavaScript, too).
  function clearFieldErrors() {
    form.querySelectorAll(".field-error").forEach((note) => {
      const input = form.querySelector(`[aria-describedby~="${note.id}"]`);
      if (input) {
        const rest = input.getAttribute("aria-describedby").split(" ").filter((id) => id !== note.id);
        if (rest.length) {
          input.setAttribute("aria-describedby", rest.join(" "));
        } else {
          input.removeAttribute("aria-describedby");
        }
      }
      note.remove();
    });
    form.querySelectorAll("[aria-invalid]").forEach((input) => input.removeAttribute("aria-invalid"));
    form.querySelectorAll(".field-invalid").forEach((box) => box.classList.remove("field-invalid"));
  }

  // Shows each message at its field, as the server's page does: {field name: message}.
  function showFieldErrors(problems) {
    for (const [name, text] of Object.entries(problems || {})) {
      const input = form.elements[name];
      if (!input || !input.id) {
        continue;
      }
      const note = document.createElement("p");
      note.className = "field-error";
      note.id = `${input.id}-error`;
      note.textContent = text;
      document.getElementById(note.id)?.remove();
      input.after(note);
      input.setAttribute("aria-invalid", "true");
      const described = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
      input.setAttribute("aria-describedby", [...new Set([...described, note.id])].join(" "));
      input.closest(".field")?.classList.add("field-invalid");
    }
  }

  // A pasted text longer than the field takes is cut by the browser without a word: say so at the field.
  form.addEventListener("paste", (event) => {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || input.maxLength <= 0) {
      return;
    }
    const pasted = event.clipboardData ? event.clipboardData.getData("text") : "";
    const room = input.maxLength - input.value.length + (input.selectionEnd - input.selectionStart);
    if (pasted.length > room) {
      showFieldErrors({ [input.name]: texts.cut.replace("{count}", input.maxLength) });
    }
  });

  // --- drawing ------------------------------------------------------------------------------------

  const hatched = new Set(texts.hatched.split(" "));
  // the widest a label's characters are, as a share of its font size (drawing.LABEL_GLYPH_WIDTH)
  const GLYPH_WIDTH = Number(texts.glyphWidth);

  // The booth's box and hatching where it stands, its number in the middle, shrunk until it fits the box.
  function place(shape, booth) {
    shape.querySelectorAll("rect").forEach((rect) => {
      rect.setAttribute("x", booth.x * unit);
      rect.setAttribute("y", booth.y * unit);
      rect.setAttribute("width", booth.w * unit);
      rect.setAttribute("height", booth.h * unit);
    });
    const label = shape.querySelector("text");
    label.setAttribute("x", (booth.x + booth.w / 2) * unit);
    label.setAttribute("y", (booth.y + booth.h / 2) * unit);
    const fits = (booth.w * unit * 0.9) / (GLYPH_WIDTH * Math.max(booth.number.length, 1));
    label.setAttribute("font-size", Math.min(12, (booth.h * unit) / 2, fits).toFixed(1));
    if (shape === selected) {
      placeHandle(booth);
    }
  }

  function draw(shape, booth) {
    shape.dataset.booth = JSON.stringify(booth);
    shape.setAttribute("class", `booth booth-${booth.state}` + (shape === selected ? " is-selected" : ""));
    shape.setAttribute("aria-label", `${booth.number}, ${booth.state_label}`);
    shape.querySelector("title").textContent = `${booth.number}${booth.zone ? ", " + booth.zone : ""}: ${booth.state_label}`;
    shape.querySelector(".booth-pattern").setAttribute("visibility", hatched.has(booth.state) ? "visible" : "hidden");
    shape.querySelector("text").textContent = booth.number;
    place(shape, booth);
  }

  function newShape(booth) {
    const shape = document.createElementNS(SVG_NS, "g");
    shape.setAttribute("tabindex", "0");
    const [box, pattern] = [document.createElementNS(SVG_NS, "rect"), document.createElementNS(SVG_NS, "rect")];
    box.setAttribute("class", "booth-box");
    pattern.setAttribute("class", "booth-pattern");
    pattern.setAttribute("fill", "url(#booth-editor-hatch)");
    shape.append(document.createElementNS(SVG_NS, "title"), box, pattern, document.createElementNS(SVG_NS, "text"));
    shapes.append(shape);
    draw(shape, booth);
    return shape;
  }

  function placeHandle(booth) {
    if (!handle) {
      handle = document.createElementNS(SVG_NS, "rect");
      handle.setAttribute("class", "booth-handle");
      handle.setAttribute("width", "10");
      handle.setAttribute("height", "10");
      handle.addEventListener("pointerdown", (event) => startDrag(event, "resize"));
      svg.append(handle);
    }
    handle.setAttribute("x", (booth.x + booth.w) * unit - 5);
    handle.setAttribute("y", (booth.y + booth.h) * unit - 5);
  }

  // --- the booth list ------------------------------------------------------------------------------

  const rowOf = (id) => list.querySelector(`[data-booth-row="${id}"]`);

  function showList() {
    listWrap.hidden = list.rows.length === 0;
    listEmpty.hidden = !listWrap.hidden;
  }

  // Puts the server's row of a saved booth in the list, in the list's order (zone, then number).
  function showRow(html) {
    const template = document.createElement("template");
    template.innerHTML = html.trim();
    const row = template.content.firstElementChild;
    rowOf(row.dataset.boothRow)?.remove();
    const before = (other) => row.dataset.zone < other.dataset.zone
      || (row.dataset.zone === other.dataset.zone && row.dataset.number < other.dataset.number);
    list.insertBefore(row, [...list.rows].find(before) || null);
    showList();
  }

  // --- the side form ------------------------------------------------------------------------------

  function fill(booth) {
    ["number", "zone", "x", "y", "w", "h", "price"].forEach((name) => {
      form.elements[name].value = booth ? booth[name] : "";
    });
    form.elements.size_m2.value = booth ? booth.size_m2 : "";
    ["corner", "power", "water"].forEach((name) => {
      form.elements[name].checked = Boolean(booth && booth[name]);
    });
    title.textContent = booth ? texts.editTitle.replace("{number}", booth.number) : texts.newTitle;
    newButton.hidden = deleteButton.hidden = !booth;
    clearFieldErrors();
  }

  function select(shape) {
    if (selected) {
      selected.classList.remove("is-selected");
    }
    selected = shape;
    if (shape) {
      shape.classList.add("is-selected");
      placeHandle(boothOf(shape));
    } else if (handle) {
      handle.remove();
      handle = null;
    }
    fill(shape ? boothOf(shape) : null);
  }

  function typedBooth() {
    const booth = { id: selected ? boothOf(selected).id : null };
    for (const name of WHOLE_FIELDS) {
      const value = form.elements[name].value.trim();
      if (!/^-?\d+$/.test(value)) {
        return null; // the server's form explains what is wrong with it
      }
      booth[name] = Number(value);
    }
    const size = form.elements.size_m2.value.trim().replace(",", ".");
    if (size && Number.isNaN(Number(size))) {
      return null;
    }
    booth.size_m2 = size ? Number(size) : null;
    booth.number = form.elements.number.value;
    booth.zone = form.elements.zone.value;
    ["corner", "power", "water"].forEach((name) => {
      booth[name] = form.elements[name].checked;
    });
    return booth;
  }

  // --- talking to the server ----------------------------------------------------------------------

  async function post(url, body) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body || {}),
    });
    let data = {};
    try {
      data = await response.json();
    } catch {
      data = {};
    }
    return { ok: response.ok, data };
  }

  // Saves `booth`; on a refusal puts `shape` back as the server has it (or as it was).
  async function save(booth, shape) {
    const before = shape ? boothOf(shape) : null;
    let answer;
    try {
      answer = await post(texts.saveUrl, booth);
    } catch {
      answer = { ok: false, data: { error: texts.failed } };
    }
    if (answer.ok) {
      const target = shape || newShape(answer.data.booth);
      draw(target, answer.data.booth);
      select(target);
      showRow(answer.data.row);
      say(answer.data.message, false);
      return;
    }
    say(answer.data.error || texts.failed, true);
    if (shape) {
      draw(shape, answer.data.booth || before);
    }
    // what was typed stays in the form, each refused field with its message
    clearFieldErrors();
    showFieldErrors(answer.data.problems);
  }

  form.addEventListener("submit", async (event) => {
    const booth = typedBooth();
    if (!booth) {
      return; // sent as a plain form: the page comes back with the field marked
    }
    event.preventDefault();
    await save(booth, selected);
    // portal.js disabled the button against a second click while saving; the form stays for the next change
    form.querySelectorAll("button[type=submit]").forEach((button) => {
      button.disabled = false;
    });
  });

  newButton.addEventListener("click", () => {
    select(null);
    form.elements.number.focus();
  });

  deleteButton.addEventListener("click", async () => {
    const shape = selected;
    const booth = boothOf(shape);
    if (!window.confirm(texts.confirmDelete.replace("{number}", booth.number))) {
      return;
    }
    let answer;
    try {
      answer = await post(texts.deleteUrl.replace("/0/delete", `/${booth.id}/delete`));
    } catch {
      answer = { ok: false, data: { error: texts.failed } };
    }
    if (answer.ok) {
      select(null);
      shape.remove();
      rowOf(booth.id)?.remove();
      showList();
    }
    say(answer.ok ? answer.data.message : answer.data.error || texts.failed, !answer.ok);
  });

  // --- dragging and resizing ----------------------------------------------------------------------

  function pointerUnits(event) {
    const point = new DOMPoint(event.clientX, event.clientY).matrixTransform(svg.getScreenCTM().inverse());
    return { x: point.x / unit, y: point.y / unit };
  }

  const clamp = (value, low, high) => Math.min(Math.max(value, low), high);
  let drag = null;

  function startDrag(event, mode) {
    if (event.button !== 0) {
      return;
    }
    const shape = mode === "resize" ? selected : event.currentTarget;
    if (shape !== selected) {
      select(shape);
    }
    event.preventDefault();
    event.stopPropagation();
    drag = { shape, mode, from: pointerUnits(event), booth: boothOf(shape), moved: false };
    svg.setPointerCapture(event.pointerId);
    shape.classList.add("is-dragging");
  }

  svg.addEventListener("pointermove", (event) => {
    if (!drag) {
      return;
    }
    const at = pointerUnits(event);
    const dx = Math.round(at.x - drag.from.x);
    const dy = Math.round(at.y - drag.from.y);
    const start = drag.booth;
    const next = { ...start };
    if (drag.mode === "move") {
      next.x = clamp(start.x + dx, 0, hall.width - start.w);
      next.y = clamp(start.y + dy, 0, hall.height - start.h);
    } else {
      next.w = clamp(start.w + dx, 1, hall.width - start.x);
      next.h = clamp(start.h + dy, 1, hall.height - start.y);
    }
    drag.moved = ["x", "y", "w", "h"].some((key) => next[key] !== start[key]);
    drag.next = next;
    place(drag.shape, next);
  });

  function endDrag() {
    if (!drag) {
      return;
    }
    const { shape, moved, next, booth } = drag;
    drag = null;
    shape.classList.remove("is-dragging");
    if (moved) {
      // A resized booth covers another area: its size follows unless the organiser typed one.
      save({ ...next, size_m2: next.w === booth.w && next.h === booth.h ? booth.size_m2 : null }, shape);
    }
  }

  svg.addEventListener("pointerup", endDrag);
  svg.addEventListener("pointercancel", endDrag);

  const ARROWS = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };

  function watch(shape) {
    shape.addEventListener("pointerdown", (event) => startDrag(event, "move"));
    shape.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        select(shape);
      } else if (ARROWS[event.key] && shape === selected) {
        event.preventDefault();
        const booth = boothOf(shape);
        const [dx, dy] = ARROWS[event.key];
        save({ ...booth, x: booth.x + dx, y: booth.y + dy }, shape);
      }
    });
  }

  shapes.querySelectorAll(".booth").forEach((shape) => {
    place(shape, boothOf(shape));
    watch(shape);
  });
  new MutationObserver((changes) => {
    changes.forEach((change) => change.addedNodes.forEach(watch));
  }).observe(shapes, { childList: true });
})();
