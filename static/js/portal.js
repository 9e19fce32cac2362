// Progressive enhancement only: every page works without JavaScript.
// Tells the stylesheet that the menu button works, so phones may fold the navigation behind it.
document.documentElement.classList.add("js");

// A download's form stays on screen: its buttons come back after this long (a double click still sends one).
const DOWNLOAD_PAUSE_MS = 2000;

function setUpMenuButton() {
  const toggle = document.querySelector(".nav-toggle");
  const nav = document.getElementById("site-nav");
  if (!toggle || !nav) return;
  const setOpen = (open) => {
    nav.classList.toggle("open", open);
    toggle.setAttribute("aria-expanded", String(open));
  };
  toggle.addEventListener("click", () => {
    const open = !nav.classList.contains("open");
    setOpen(open);
    if (open) nav.querySelector("a, button")?.focus();
  });
  // Escape closes the open menu and gives the focus back to its button.
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && nav.classList.contains("open")) {
      setOpen(false);
      toggle.focus();
    }
  });
}

// On phones a table shows one card per row, each cell naming its column (components.css, "Tables").
function labelStackedTables() {
  document.querySelectorAll(".table-wrap > table:not(.table-scroll)").forEach((table) => {
    const headings = [];
    table.querySelectorAll("thead tr:last-child th").forEach((th) => {
      for (let span = 0; span < th.colSpan; span += 1) headings.push(th.textContent.trim());
    });
    table.querySelectorAll("tbody tr").forEach((row) => {
      let column = 0;
      Array.from(row.cells).forEach((cell) => {
        if (cell.tagName === "TD" && headings[column] && cell.colSpan === 1) cell.dataset.label = headings[column];
        column += cell.colSpan;
      });
    });
  });
}

document.addEventListener("DOMContentLoaded", () => {
  setUpMenuButton();
  labelStackedTables();
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
