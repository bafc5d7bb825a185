// A component's busy state, as its template reads it: `busy` (true while a request is on its way)
// and `busyAttr`, the same for aria-busy. Property descriptors are copied, so getters stay getters
// (a spread would freeze their current values).
const busy = {
  busy: false,
  get busyAttr() {
    return this.busy ? "true" : "false";
  },
};

export const mix = (component, ...mixins) => {
  for (const mixin of mixins) {
    for (const [name, descriptor] of Object.entries(Object.getOwnPropertyDescriptors(mixin))) {
      if (!(name in component)) Object.defineProperty(component, name, descriptor);
    }
  }
  return component;
};

export const withBusy = (component) => mix(component, busy);
