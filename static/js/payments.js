// The payment pages' progressive enhancement: copy buttons on the transfer details, and a card payment's return page
// that waits for Stripe's confirmation. Without JavaScript the details can be selected by hand and the page has a
// "Check again" link.
document.addEventListener("DOMContentLoaded", () => {
  const status = document.querySelector(".copy-status");
  document.querySelectorAll(".copy-button").forEach((button) => {
    if (!navigator.clipboard) return;
    button.hidden = false;
    button.addEventListener("click", () => {
      navigator.clipboard.writeText(button.dataset.copy).then(() => {
        if (status) status.textContent = button.dataset.copied + ": " + button.dataset.copy;
        button.textContent = button.dataset.copied;
      });
    });
  });

  // Asks every few seconds whether the webhook has confirmed the payment, for at most ten minutes, then shows the
  // page again with the outcome.
  const waiting = document.querySelector("[data-payment-status][data-state=processing]");
  if (waiting) {
    const started = Date.now();
    const ask = () => {
      fetch(waiting.dataset.paymentStatus, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then((response) => (response.ok ? response.json() : { state: "processing" }))
        .then((answer) => {
          if (answer.state !== "processing") {
            window.location.reload();
          } else if (Date.now() - started < 10 * 60 * 1000) {
            setTimeout(ask, 3000);
          }
        })
        .catch(() => setTimeout(ask, 10000));
    };
    setTimeout(ask, 2000);
  }
});
