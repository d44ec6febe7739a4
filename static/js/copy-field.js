// "Copy" buttons beside read-only fields: <button data-copy-target="id-of-the-input">.
// Loaded as a file: the Content-Security-Policy allows no inline script.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy-target]");
  if (!button) {
    return;
  }
  const input = document.getElementById(button.dataset.copyTarget);
  if (!input) {
    return;
  }
  const label = button.textContent;
  const done = () => {
    button.textContent = "Copied";
    window.setTimeout(() => { button.textContent = label; }, 2000);
  };
  input.focus();
  input.select();
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(input.value).then(done, () => {});
  } else if (document.execCommand("copy")) {
    done();
  }
});
