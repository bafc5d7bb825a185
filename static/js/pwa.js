// Registers the service worker (static/js/serviceworker.js, served at /serviceworker.js) on every
// page, so Flux installs and keeps working offline. An external script, not django-pwa's inline
// one, so a strict Content-Security-Policy can forbid inline scripts.
(() => {
  const script = document.getElementById("flux-pwa");
  if (!script || !("serviceWorker" in navigator)) return;
  navigator.serviceWorker.register(script.dataset.worker, { scope: "/" }).catch((error) => {
    console.warn("Flux: the service worker did not register", error);
  });
})();
