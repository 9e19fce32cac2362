// Saves an application's section while the applicant types, so closing the browser loses nothing.
// Without JavaScript the Save buttons do the same; with it, the page says when it last saved.
const startAutosave = () => {
  const form = document.querySelector("form[data-autosave=on]");
  if (!form) return;
  const state = form.querySelector(".save-state");
  const version = form.querySelector("input[name=base_version]");
  let timer = null;
  let saving = false;
  let again = false;

  const save = async () => {
    if (saving) { again = true; return; }
    saving = true;
    const body = new FormData(form);
    body.delete("next");
    try {
      const response = await fetch(form.action || window.location.href, {
        method: "POST", body, headers: { Accept: "application/json" }, credentials: "same-origin",
      });
      const answer = await response.json();
      if (response.ok) {
        version.value = answer.version;
        state.textContent = answer.saved;
        state.classList.remove("save-error");
      } else {
        state.textContent = answer.error;
        state.classList.add("save-error");
      }
    } catch (error) {
      state.textContent = form.dataset.offline || state.textContent;
      state.classList.add("save-error");
    } finally {
      saving = false;
      if (again) { again = false; save(); }
    }
  };

  const saveSoon = () => {
    clearTimeout(timer);
    timer = setTimeout(save, 1500);
  };
  form.addEventListener("input", saveSoon);
  // what was typed before this script ran (a slow phone, a quick hand) is saved too
  const typedAlready = [...form.elements].some((field) => {
    if (field.type === "checkbox" || field.type === "radio") return field.checked !== field.defaultChecked;
    if (field.tagName === "SELECT") return [...field.options].some((option) => option.selected !== option.defaultSelected);
    return field.type !== "file" && "defaultValue" in field && field.value !== field.defaultValue;
  });
  if (typedAlready) saveSoon();

  form.querySelectorAll(".word-count").forEach((counter) => {
    const area = document.getElementById(counter.dataset.for);
    const limit = Number(area.dataset.wordLimit);
    const template = counter.dataset.template;
    const update = () => {
      const words = area.value.trim() ? area.value.trim().split(/\s+/).length : 0;
      counter.textContent = template.replace("{count}", words).replace("{limit}", limit);
      counter.classList.toggle("field-error", words > limit);
    };
    area.addEventListener("input", update);
    update();
  });
};

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", startAutosave);
else startAutosave();
