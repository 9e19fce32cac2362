// The booth pages' progressive enhancement: the hold's countdown. The server's clock is the truth: the page carries
// the server's time when it was drawn and the hold's expiry, so a wrong clock on the exhibitor's device does not
// matter. Without JavaScript the page still says until when the booth is held.
document.addEventListener("DOMContentLoaded", () => {
  const holder = document.querySelector(".hold-countdown[data-expires-at]");
  if (!holder) return;
  const leftAtLoad = Date.parse(holder.dataset.expiresAt) - Date.parse(holder.dataset.serverNow);
  const loadedAt = Date.now();
  const countdown = holder.querySelector(".countdown");
  const value = holder.querySelector(".countdown-value");
  countdown.hidden = false;
  const tick = () => {
    const left = Math.max(0, leftAtLoad - (Date.now() - loadedAt));
    const seconds = Math.ceil(left / 1000);
    value.textContent = Math.floor(seconds / 60) + ":" + String(seconds % 60).padStart(2, "0");
    if (left === 0) {
      holder.classList.add("hold-expired");
      const note = document.createElement("p");
      note.setAttribute("role", "alert");
      note.textContent = holder.dataset.expiredText;
      holder.after(note);
      return;
    }
    setTimeout(tick, left % 1000 || 1000);  // on the second boundary, so the display never skips a second
  };
  tick();
});
