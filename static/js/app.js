// Flux page behaviour. The Alpine.js CSP build evaluates no expressions from templates, so every
// component is registered here and templates only name its properties and methods.
// Loaded with `defer` before alpine-csp.min.js, so `alpine:init` is listened for in time.
document.addEventListener("alpine:init", () => {
  // The top navigation: on a phone the menu button opens and closes the links; on a wide screen
  // they are always shown. Escape or a click outside closes the menu, and Escape gives the focus
  // back to the button so a keyboard user does not lose their place.
  window.Alpine.data("navMenu", () => ({
    open: false,
    get expanded() {
      return this.open ? "true" : "false";
    },
    toggle() {
      this.open = !this.open;
    },
    close() {
      this.open = false;
    },
    closeAndFocus() {
      if (!this.open) return;
      this.open = false;
      this.$refs.menuButton.focus();
    },
  }));
});
