// Progressive enhancement only: every page works without JavaScript.
// Tells the stylesheet that the menu button works, so phones may fold the navigation behind it.
document.documentElement.classList.add("js");

// A download's form stays on screen: its buttons come back after this long (a double click still sends one).
const DOWNLOAD_PAUSE_MS = 2000;

document.addEventListener("DOMContentLoaded", () => {
  const toggle = document.querySelector(".nav-toggle");
  const nav = document.getElementById("site-nav");
  if (toggle && nav) {
    toggle.addEventListener("click", () => {
      const open = nav.classList.toggle("open");
      toggle.setAttribute("aria-expanded", String(open));
    });
  }
  // A second click on a submit button must not send the form twice. A form answered with a file (data-download)
  // does not leave the page, so its buttons are given back for the next download.
  document.querySelectorAll("form[method=post]").forEach((form) => {
    form.addEventListener("submit", () => {
      const buttons = form.querySelectorAll("button[type=submit]");
      setTimeout(() => buttons.forEach((button) => { button.disabled = true; }), 0);
      if (form.hasAttribute("data-download")) {
        setTimeout(() => buttons.forEach((button) => { button.disabled = false; }), DOWNLOAD_PAUSE_MS);
      }
    });
  });
});

// A page brought back with the browser's Back button comes from its cache as it was left: buttons disabled.
window.addEventListener("pageshow", (event) => {
  if (event.persisted) {
    document.querySelectorAll("form[method=post] button[type=submit]").forEach((button) => {
      button.disabled = false;
    });
  }
});
