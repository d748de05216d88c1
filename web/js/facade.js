// Facade — `window.civicSpace`, the ONE object scripts and the browser tests read the scene page through:
//
//   civicSpace.ready        Promise: resolves when the scene is interactive — in 3D, or in text mode
//                           (`state().mode === 'text'`: asked for, no WebGL, or the browser saves data);
//                           rejects on error
//   civicSpace.state()      {position: [x, y, z] (feet, metres), yaw, pitch (degrees), sceneId, triangles,
//                           status, mode: '3d' | 'text', zone: id of the zone the walker is in, or null}
//   civicSpace.goToEntrance()  back to spawn[0], announced
//   civicSpace.goToZone(id)    jump cut to a zone (as its button in the mirror does), announced
//   civicSpace.tour         the guided tour: state() {index, count, playing, finished, speed}, play(), next()…
//   civicSpace.announcements()  the messages spoken through the polite live region, oldest first
//   civicSpace.teleport([x, y, z], yawDeg, pitchDeg)  jump cut (tour stops, zones, tests)
//   civicSpace.nextFrame()  Promise resolved after the next simulated frame (so a test that released a
//                           key reads a state that includes the whole hold, even at 3 frames a second)
//   civicSpace.presence     the room: `id`, `connected`, `status`, `members()` [{id, name}], `remote()`
//                           [{id, name, position: [x, y, z] (feet, metres), yaw (degrees)}] as rendered
//   civicSpace.hotspots     `list()` the scene's hotspots as the API gives them, `markers()` [{id, label,
//                           kind, position}] as drawn in 3D, `open(id)`, `goTo(id)`, `panelOpen()`,
//                           `screenPoint(id)` {x, y} in page pixels of a marker (or null), `loaded`
//   civicSpace.staff        `user()` {username, role} or null, `editing()`
//
// `document.body.dataset.state` mirrors the outcome: loading | ready | error | no-webgl (text mode chosen
// because WebGL is missing); `document.body.dataset.mode` is 3d | text.
// Invariants: the facade exists (and answers, with nulls and empty lists) from the first moment, before
// any part is built; it reads the page's parts and never builds, holds or changes any of its own; it is
// the only module that sees all the parts, and none of them sees it.

const DEGREES = 180 / Math.PI;

/**
 * @param {object} parts  the page's parts as app.js builds them (any may still be missing): `doc`,
 *   `sceneId`, `mode`, `triangles`, `walker`, `navigation`, `announcer`, `room`, `hotspotView`, `staff`,
 *   `walkView`, `frames`
 * @param {Promise} ready  settles as the page's start-up does
 */
export function createFacade(parts, ready) {
  const state = () => {
    const walker = parts.walker;
    return {
      position: walker ? [walker.x, walker.y, walker.z] : null,
      yaw: walker ? walker.yaw * DEGREES : null,
      pitch: walker ? walker.pitch * DEGREES : null,
      sceneId: parts.sceneId,
      triangles: parts.triangles,
      status: parts.doc.body.dataset.state,
      mode: parts.mode,
      zone: parts.navigation?.zone?.id ?? null,
    };
  };
  const nextFrame = (frames = 2) => {
    if (parts.mode === 'text') return ready.then(state);
    if (!parts.walkView) return ready.then(() => nextFrame(frames));
    return parts.frames.wait(frames).then(state);
  };
  return {
    ready,
    state,
    nextFrame,
    get tour() {
      return parts.navigation?.tour;
    },
    announcements: () => (parts.announcer ? [...parts.announcer.history] : []),
    goToEntrance: () => parts.navigation?.goToEntrance(),
    goToZone: (id) => parts.navigation?.goToZone(id),
    teleport: (position, yawDeg = 0, pitchDeg = 0) => parts.navigation?.teleport(position, yawDeg, pitchDeg),
    presence: {
      get id() {
        return parts.room?.connection.id ?? null;
      },
      get connected() {
        return Boolean(parts.room?.connection.connected);
      },
      get status() {
        return parts.room?.connection.status ?? 'idle';
      },
      members: () => parts.room?.connection.members() ?? [],
      remote: () => parts.room?.remote() ?? [],
    },
    hotspots: {
      get loaded() {
        return Boolean(parts.hotspotView?.store.loaded);
      },
      list: () => parts.hotspotView?.store.list() ?? [],
      markers: () => parts.hotspotView?.markers?.list() ?? [],
      open: (id) => Boolean(parts.hotspotView?.open(id)),
      goTo: (id) => parts.hotspotView?.goTo(id),
      panelOpen: () => Boolean(parts.hotspotView?.panel.isOpen),
      screenPoint: (id) => parts.hotspotView?.screenPoint(id) ?? null,
    },
    staff: {
      user: () => parts.staff?.user ?? null,
      editing: () => Boolean(parts.staff?.editing),
    },
  };
}
