// A form that moves money or decides: once sent, its button is disabled and says so, so a double
// click sends one request (the server's token makes a second one harmless anyway). A page restored
// by the back button gets its button back. The template names `send`, `busyAttr` and
// `submitLabel`; the button (x-ref="submit") carries data-idle-label and data-busy-label.
import { mix, withBusy } from "./busy.js";

const sendOnce = {
  setUpSendOnce() {
    window.addEventListener("pageshow", () => {
      this.busy = false;
    });
  },
  send() {
    this.busy = true;
  },
  get submitLabel() {
    const labels = this.$refs.submit.dataset; // $refs, unlike $el, is the same in every handler
    return this.busy ? labels.busyLabel : labels.idleLabel;
  },
};

// The component's own `init` and `send` win; it calls setUpSendOnce() from its init.
export const withSendOnce = (component) => withBusy(mix(component, sendOnce));

// A form with nothing else to do.
export const sendOnceForm = () =>
  withSendOnce({
    init() {
      this.setUpSendOnce();
    },
  });
