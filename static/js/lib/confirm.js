// Asks before a form does what takes effect at once (approve, reject, freeze, deactivate): a
// submit button (or its form) with data-confirm="<the question>" opens the page's
// <dialog id="confirm-dialog"> (templates/workspace/_confirm_dialog.html) instead of submitting;
// "Cancel" or Escape leaves everything as it was, the confirm button submits the form as it was
// asked, with the same button (its formaction included).
// Keyboard: the dialog is modal (focus stays in it) and opens on Cancel, the harmless choice; Tab
// reaches the confirm button; focus returns to the button that asked when the dialog closes.
// Without JavaScript the forms submit directly, as before. No inline script: CSP-safe.
export function installConfirmations(dialog) {
  if (!dialog || typeof dialog.showModal !== "function") return;
  const question = dialog.querySelector('[data-slot="question"]');
  const confirmButton = dialog.querySelector('[data-slot="confirm"]');
  let pending = null;

  // Capture, on the document: before the form's own handlers (its busy state) hear the submit.
  document.addEventListener(
    "submit",
    (event) => {
      const form = event.target;
      const submitter = event.submitter || null;
      const asking = (submitter && submitter.dataset.confirm) || form.dataset.confirm;
      if (!asking) return;
      if (form.dataset.confirmed === "true") {
        delete form.dataset.confirmed;
        return;
      }
      event.preventDefault();
      event.stopImmediatePropagation();
      pending = { form, submitter };
      question.textContent = asking;
      confirmButton.textContent =
        (submitter && submitter.dataset.confirmLabel) || form.dataset.confirmLabel || dialog.dataset.confirmLabel;
      dialog.returnValue = "";
      dialog.showModal();
    },
    true,
  );

  dialog.addEventListener("close", () => {
    const asked = pending;
    pending = null;
    if (!asked || dialog.returnValue !== "confirm") return;
    asked.form.dataset.confirmed = "true";
    if (asked.submitter) asked.form.requestSubmit(asked.submitter);
    else asked.form.requestSubmit();
  });
}
