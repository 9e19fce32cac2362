// The booth pages' progressive enhancement: the hold's countdown. The server's clock is the truth: the page carries
// the server's time when it was drawn and the hold's expiry, so a wrong clock on the exhibitor's device does not
// matter. When it reaches zero the application is posted back to be shown again, not submitted (`refresh`): the
// server answers with the plan as it now stands and every field as typed, the logo chosen included. Without
// JavaScript the page still says until when the booth is held, and submitting late answers the same way.
document.addEventListener("DOMContentLoaded", () => {
  const holder = document.querySelector(".hold-countdown[data-expires-at]");
  if (!holder) return;
  const leftAtLoad = Date.parse(holder.dataset.expiresAt) - Date.parse(holder.dataset.serverNow);
  const loadedAt = Date.now();
  const countdown = holder.querySelector(".countdown");
  const value = holder.querySelector(".countdown-value");
  const application = document.getElementById(holder.dataset.form);
  countdown.hidden = false;
  const refresh = () => {
    const flag = document.createElement("input");
    flag.type = "hidden";
    flag.name = "refresh";
    flag.value = "1";
    application.append(flag);
    application.submit();  // no submit event: this is not the exhibitor sending the application
  };
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
      refresh();
      return;
    }
    setTimeout(tick, left % 1000 || 1000);  // on the second boundary, so the display never skips a second
  };
  tick();
});
