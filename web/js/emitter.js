// Emitter — named events for the client's data objects (Hotspots, Presence): `on(type, listener)`
// returns the function that removes the listener; `emit(type, detail)` calls each listener of `type`.
// Invariant: a listener that throws is reported on the console and never stops the others (one broken
// view must not break the connection or the store).

export class Emitter {
  constructor() {
    this.listeners = new Map(); // type -> Set of listeners
  }

  on(type, listener) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type).add(listener);
    return () => this.listeners.get(type).delete(listener);
  }

  emit(type, detail) {
    for (const listener of this.listeners.get(type) || []) {
      try {
        listener(detail);
      } catch (error) {
        console.error(error);
      }
    }
  }
}
