// The check-in page: scans ticket QR codes with the phone's camera (jsQR, self-hosted in static/vendor/jsqr)
// and keeps the counts of the page's event day current. Without JavaScript or without a camera, the page's forms
// do the same job.
(() => {
  "use strict";

  const COUNTS_EVERY_MS = 5000;
  // A QR code stays in the frame for a while after its answer: the same code is not sent again for this long.
  const SAME_CODE_PAUSE_MS = 4000;
  // Decoding a smaller picture is faster, and a ticket held up to the camera is still large enough.
  const MAX_DECODE_WIDTH = 640;

  const root = document.getElementById("checkin");
  if (!root) {
    return;
  }
  const messages = root.dataset;
  const answer = document.getElementById("checkin-answer");

  function showAnswer(data) {
    answer.hidden = false;
    answer.className = "checkin-answer checkin-answer-" + data.tone;
    answer.dataset.outcome = data.outcome;
    answer.querySelectorAll("[data-part]").forEach((part) => {
      part.textContent = data[part.dataset.part] || "";
    });
    if (navigator.vibrate) {
      navigator.vibrate(data.tone === "ok" ? 120 : [250, 120, 250]);
    }
  }

  function showProblem(message) {
    showAnswer({ outcome: "error", tone: "stop", icon: "✕", title: message });
  }

  // --- counts ---------------------------------------------------------------------------------

  function setCount(name, value) {
    const cell = root.querySelector(`[data-count="${name}"]`);
    if (cell) {
      cell.textContent = String(value);
    }
  }

  function areaItem(area) {
    const item = document.createElement("li");
    const name = document.createElement("span");
    const count = document.createElement("strong");
    name.textContent = area.label;
    count.textContent = String(area.count);
    item.append(name, ": ", count);
    return item;
  }

  function showCounts(counts) {
    if (counts.day !== messages.day) {
      return; // a scan answers with today's counts; the page may be showing another day
    }
    setCount("checked_in", counts.checked_in);
    setCount("valid", counts.valid);
    counts.types.forEach((type) => {
      setCount(`type-${type.id}-checked_in`, type.checked_in);
      setCount(`type-${type.id}-valid`, type.valid);
    });
    const areas = document.getElementById("checkin-areas");
    if (counts.areas.length) {
      areas.replaceChildren(...counts.areas.map(areaItem));
    } else {
      const empty = document.createElement("li");
      empty.className = "empty";
      empty.textContent = areas.dataset.empty;
      areas.replaceChildren(empty);
    }
  }

  function refreshCounts() {
    if (document.hidden) {
      return;
    }
    fetch(messages.countsUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((response) => (response.ok ? response.json() : null))
      .then((counts) => counts && showCounts(counts))
      .catch(() => {}); // the next poll tries again; the numbers on screen stay until then
  }

  setInterval(refreshCounts, COUNTS_EVERY_MS);

  // --- scanning -------------------------------------------------------------------------------

  function csrfToken() {
    return document.querySelector("#checkin-code-form input[name=csrf_token]").value;
  }

  async function sendCode(code) {
    try {
      const response = await fetch(messages.scanUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify({ code, area: messages.area, test: messages.test === "true" }),
      });
      const data = await response.json();
      if (data.answer) {
        showAnswer(data.answer);
      } else {
        showProblem(data.error);
      }
      if (data.counts) {
        showCounts(data.counts);
      }
    } catch {
      showProblem(messages.msgNetwork);
    }
  }

  const section = document.getElementById("checkin-scan");
  const video = document.getElementById("checkin-video");
  const canvas = document.getElementById("checkin-canvas");
  const button = document.getElementById("checkin-camera");
  const status = document.getElementById("checkin-camera-status");
  const canScan = Boolean(navigator.mediaDevices && navigator.mediaDevices.getUserMedia && window.jsQR);
  let stream = null;
  let sending = false;
  let lastCode = "";
  let lastCodeAt = 0;

  section.hidden = false;
  if (!canScan) {
    button.hidden = true;
    status.textContent = messages.msgNoCamera;
    return;
  }

  function decodeFrame() {
    const width = Math.min(video.videoWidth, MAX_DECODE_WIDTH);
    const height = Math.round(video.videoHeight * (width / video.videoWidth));
    canvas.width = width;
    canvas.height = height;
    const context = canvas.getContext("2d", { willReadFrequently: true });
    context.drawImage(video, 0, 0, width, height);
    const found = window.jsQR(context.getImageData(0, 0, width, height).data, width, height,
      { inversionAttempts: "dontInvert" });
    return found ? found.data : "";
  }

  function scanLoop() {
    if (!stream) {
      return;
    }
    if (!sending && video.readyState >= video.HAVE_ENOUGH_DATA && video.videoWidth) {
      const code = decodeFrame();
      const repeated = code === lastCode && Date.now() - lastCodeAt < SAME_CODE_PAUSE_MS;
      if (code && !repeated) {
        sending = true;
        lastCode = code;
        status.textContent = messages.msgChecking;
        sendCode(code).finally(() => {
          sending = false;
          lastCodeAt = Date.now();
          status.textContent = messages.msgScanning;
        });
      } else if (code) {
        lastCodeAt = Date.now();
      }
    }
    requestAnimationFrame(scanLoop);
  }

  async function startCamera() {
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
    } catch {
      status.textContent = messages.msgCameraRefused;
      return;
    }
    video.parentElement.hidden = false;
    video.srcObject = stream;
    await video.play();
    button.textContent = messages.msgStop;
    status.textContent = messages.msgScanning;
    requestAnimationFrame(scanLoop);
  }

  function stopCamera() {
    stream.getTracks().forEach((track) => track.stop());
    stream = null;
    video.srcObject = null;
    video.parentElement.hidden = true;
    button.textContent = messages.msgStart;
    status.textContent = "";
  }

  button.addEventListener("click", () => (stream ? stopCamera() : startCamera()));
})();
